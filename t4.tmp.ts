import { shippedSchemas, toInputJsonSchema } from './src/reference/json-schemas';
import { fieldRows, markdownTable } from './src/reference/field-table';
const rows = fieldRows(toInputJsonSchema(shippedSchemas[0].schema));
console.log(markdownTable(rows));
