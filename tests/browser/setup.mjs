// Configures, through maskd's API, a masking job on the target database's `customers` table, as
// a user would (README's walk-through): environment, connector, ruleset, table and column
// metadata, job. Prints the job's id.
//
// Environment: MASKD_URL, MASKD_ADMIN_PASSWORD, MASKD_TARGET_URL (postgres://user:pw@host:port/db;
// PGPASSWORD when the URL has no password).

import { api, login, waitUntilReady } from './maskd.mjs';

/** The masked columns of `customers` and their algorithms. */
const RULES = {
  first_name: 'FirstNameLookup',
  last_name: 'LastNameLookup',
  email: 'EmailLookup',
  phone: 'PhoneNumberSegment',
  born: 'DateShiftVariable',
};

const target = new URL(process.env.MASKD_TARGET_URL);
await waitUntilReady();
const token = await login('admin', process.env.MASKD_ADMIN_PASSWORD);
const post = (path, body) => api(token, 'POST', path, body);

const environment = await post('/environments', { environmentName: 'browser-test', applicationName: 'browser-test' });
const connector = await post('/database-connectors', {
  connectorName: 'customers-copy',
  databaseType: 'POSTGRES',
  environmentId: environment.environmentId,
  host: target.hostname,
  port: Number(target.port || 5432),
  databaseName: decodeURIComponent(target.pathname.slice(1)),
  schemaName: 'public',
  username: decodeURIComponent(target.username) || process.env.PGUSER || 'postgres',
  password: decodeURIComponent(target.password) || process.env.PGPASSWORD || 'unused-with-trust-auth',
});
const test = await post(`/database-connectors/${connector.databaseConnectorId}/test`, {});
if (test.response !== 'Connection Succeeded') throw new Error(`maskd cannot reach the target: ${JSON.stringify(test)}`);
const ruleset = await post('/database-rulesets', { rulesetName: 'customers', databaseConnectorId: connector.databaseConnectorId });
const table = await post('/table-metadata', { tableName: 'customers', rulesetId: ruleset.databaseRulesetId });
const columns = await api(token, 'GET', `/column-metadata?table_metadata_id=${table.tableMetadataId}`);
for (const [name, algorithmName] of Object.entries(RULES)) {
  const column = columns.responseList.find((c) => c.columnName === name);
  if (!column) throw new Error(`maskd did not find column ${name} of customers`);
  await api(token, 'PUT', `/column-metadata/${column.columnMetadataId}`, { algorithmName });
}
// Progress every 2,000 rows: the console sees it rise many times during the run.
const job = await post('/masking-jobs', {
  jobName: 'mask customers',
  rulesetId: ruleset.databaseRulesetId,
  feedbackSize: 2000,
  jobDescription: 'names, emails, phones and birth dates of every customer',
  databaseMaskingOptions: { commitSize: 2000 },
});
console.log(job.maskingJobId);
