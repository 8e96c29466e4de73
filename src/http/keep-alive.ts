// How long both HTTP listeners keep an idle keep-alive connection open. A client's pool drops its
// idle sockets after its own timeout (Node's global agent: 5 s); when the server's is the same, a
// client can send on a socket in the very moment the server closes it and get EPIPE or
// ECONNRESET. Longer than the clients' timeout, the client always closes first.
export const KEEP_ALIVE_MS = 10_000;
