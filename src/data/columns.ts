import type { ColumnType } from '../shared/dataset-spec';

/** A canonical column: its name in the row objects and the kind of values it holds. */
export interface ColumnDef {
  name: string;
  /**
   * `datetime`: ISO local-naive timestamp strings (`2001-01-01T00:01:00`); `date`: `2001-01-01`;
   * `integer`: numbers that are whole; `boolean`: 1 or 0 (ready for training, like `delayed`).
   */
  type: ColumnType;
}

/** A canonical row as stored in dataset_rows.data. */
export type Row = Record<string, string | number | null>;
