// `npm run docs`: writes the parts of the documentation made from code: the field tables of
// docs/policy-language.md (from the field catalogue) and the example mom.conf of
// docs/configuration.md (from the configuration's key table), and the metrics table of
// docs/metrics.md (from src/metrics/). Tests check all are current.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG_TEXT } from '../src/config/index.js';
import { withFieldTable } from '../src/fields/docs.js';
import { withMetricsTable } from '../src/metrics/docs.js';
import { PACKAGE_ROOT } from '../src/cli/paths.js';

const policyDoc = join(PACKAGE_ROOT, 'docs', 'policy-language.md');
writeFileSync(policyDoc, withFieldTable(withFieldTable(readFileSync(policyDoc, 'utf8'), 'host'), 'guest'));

const configDoc = join(PACKAGE_ROOT, 'docs', 'configuration.md');
const text = readFileSync(configDoc, 'utf8');
const start = text.indexOf('```ini\n# momd configuration');
const end = text.indexOf('```', start + 6);
if (start < 0 || end < 0) throw new Error('docs/configuration.md: the example block is missing');
writeFileSync(configDoc, `${text.slice(0, start)}\`\`\`ini\n${DEFAULT_CONFIG_TEXT}${text.slice(end)}`);
const metricsDoc = join(PACKAGE_ROOT, 'docs', 'metrics.md');
writeFileSync(metricsDoc, withMetricsTable(readFileSync(metricsDoc, 'utf8')));
console.log('docs/policy-language.md, docs/configuration.md and docs/metrics.md are up to date');
