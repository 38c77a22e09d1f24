import type { DatePartName } from '../../shared/feature-spec';
import { MAX_TIMESTAMP_MS } from '../row';
import { doubleTensor, node } from './graph-builder';
import type { NodeProto, TensorProto } from './onnx-proto';

const MS_PER_DAY = 86_400_000;
const MS_PER_HOUR = 3_600_000;

/**
 * The calendar parts of a float64 [N,1] timestamp input (ms since 1970-01-01T00:00:00Z), computed
 * in the graph with double arithmetic, the same values date-parts.ts takes from Date (UTC):
 *
 *   ms      = Floor(x), or NaN when |x| > 8.64e15 (outside a Date's range; ±Infinity) or x is NaN
 *   days    = Floor(ms / 86400000);   hour = Floor((ms - days·86400000) / 3600000)
 *   weekday = (days + 4) mod 7        (1970-01-01 was a Thursday; 0 = Sunday)
 *   month, dayOfMonth, year: Howard Hinnant's civil_from_days (proleptic Gregorian), every
 *   division a Floor(a / b).
 *
 * Every step is exact: the operands are whole numbers below 2^53, and a correctly rounded
 * quotient a / b of whole numbers never crosses an integer as long as 1/b exceeds half an ulp of
 * the quotient — for ms / 86400000 with |days| ≤ 10^8 < 2^27, 1.16e-8 > 2^-27 ≈ 7.5e-9. `a mod b`
 * is a - Floor(a / b)·b (ONNX Mod on floats is C fmod, whose sign follows the dividend). NaN
 * propagates through every step, so a missing timestamp gives missing parts.
 *
 * Returns the name of each requested part's double [N,1] value; only the steps they need are built.
 */
export function datePartNodes(
  name: string,
  parts: readonly DatePartName[],
  nodes: NodeProto[],
  initializers: TensorProto[],
): Record<DatePartName, string> {
  const math = new DoubleMath(name, nodes, initializers);
  const built = new Map<string, string>();
  /** Each step is built once, named `<feature>/<step>`, on first use. */
  const step = (id: string, build: (out: string) => void): string => {
    let out = built.get(id);
    if (out === undefined) {
      out = `${name}/${id}`;
      build(out);
      built.set(id, out);
    }
    return out;
  };

  const ms = () =>
    step('ms', (out) => {
      const whole = math.op('Floor', [name], 'whole_ms');
      const outside = math.op('Greater', [math.op('Abs', [name], 'abs_ms'), math.constant(MAX_TIMESTAMP_MS)], 'out_of_range');
      nodes.push(node('Where', [outside, math.constant(Number.NaN), whole], [out]));
    });
  const days = () => step('days', (out) => math.floorDiv(ms(), MS_PER_DAY, out));
  const hour = () =>
    step('hour', (out) =>
      math.floorDiv(
        math.op('Sub', [ms(), math.op('Mul', [days(), math.constant(MS_PER_DAY)], 'day_start')], 'ms_of_day'),
        MS_PER_HOUR,
        out,
      ),
    );
  const weekday = () => step('weekday', (out) => math.mod(math.op('Add', [days(), math.constant(4)], 'days_since_sunday'), 7, out));

  // civil_from_days, http://howardhinnant.github.io/date_algorithms.html
  const z = () => step('z', (out) => nodes.push(node('Add', [days(), math.constant(719_468)], [out])));
  const era = () => step('era', (out) => math.floorDiv(z(), 146_097, out));
  const dayOfEra = () =>
    step('doe', (out) => nodes.push(node('Sub', [z(), math.op('Mul', [era(), math.constant(146_097)], 'era_start')], [out])));
  const yearOfEra = () =>
    step('yoe', (out) => {
      const doe = dayOfEra();
      // (doe - doe/1460 + doe/36524 - doe/146096) / 365, each division floored
      const a = math.op('Sub', [doe, math.floorDiv(doe, 1460, `${name}/doe_div_1460`)], 'yoe_a');
      const b = math.op('Add', [a, math.floorDiv(doe, 36_524, `${name}/doe_div_36524`)], 'yoe_b');
      const c = math.op('Sub', [b, math.floorDiv(doe, 146_096, `${name}/doe_div_146096`)], 'yoe_c');
      math.floorDiv(c, 365, out);
    });
  const dayOfYear = () =>
    step('doy', (out) => {
      const yoe = yearOfEra();
      // doe - (365·yoe + yoe/4 - yoe/100)
      const a = math.op('Mul', [yoe, math.constant(365)], 'doy_a');
      const b = math.op('Add', [a, math.floorDiv(yoe, 4, `${name}/yoe_div_4`)], 'doy_b');
      const c = math.op('Sub', [b, math.floorDiv(yoe, 100, `${name}/yoe_div_100`)], 'doy_c');
      nodes.push(node('Sub', [dayOfEra(), c], [out]));
    });
  /** Month index from March: 0 = March … 11 = February. */
  const monthFromMarch = () =>
    step('mp', (out) => {
      const a = math.op('Add', [math.op('Mul', [dayOfYear(), math.constant(5)], 'mp_a'), math.constant(2)], 'mp_b');
      math.floorDiv(a, 153, out);
    });
  /** 1 for January and February (which belong to the next year in the March-based count), else 0. */
  const janOrFeb = () => step('jan_or_feb', (out) => math.floorDiv(monthFromMarch(), 10, out));
  const month = () =>
    step('month', (out) => {
      const a = math.op('Add', [monthFromMarch(), math.constant(3)], 'month_a');
      nodes.push(node('Sub', [a, math.op('Mul', [janOrFeb(), math.constant(12)], 'month_wrap')], [out]));
    });
  const dayOfMonth = () =>
    step('day_of_month', (out) => {
      const a = math.op('Add', [math.op('Mul', [monthFromMarch(), math.constant(153)], 'dom_a'), math.constant(2)], 'dom_b');
      const monthStart = math.floorDiv(a, 5, `${name}/month_start`);
      nodes.push(node('Add', [math.op('Sub', [dayOfYear(), monthStart], 'dom_c'), math.constant(1)], [out]));
    });
  const year = () =>
    step('year', (out) => {
      const a = math.op('Add', [yearOfEra(), math.op('Mul', [era(), math.constant(400)], 'era_years')], 'year_a');
      nodes.push(node('Add', [a, janOrFeb()], [out]));
    });

  const builders: Record<DatePartName, () => string> = { hour, weekday, month, dayOfMonth, year };
  return Object.fromEntries(parts.map((part) => [part, builders[part]()])) as Record<DatePartName, string>;
}

/** Double-precision node helpers over one feature's values; constants are shared graph-wide. */
class DoubleMath {
  constructor(
    private readonly feature: string,
    private readonly nodes: NodeProto[],
    private readonly initializers: TensorProto[],
  ) {}

  /** A scalar float64 initializer named `double/<value>`, added once per graph. */
  constant(value: number): string {
    const name = `double/${value}`;
    if (!this.initializers.some((tensor) => tensor.name === name)) this.initializers.push(doubleTensor(name, [], [value]));
    return name;
  }

  /** One node with output `<feature>/<step>`. */
  op(opType: string, inputs: string[], stepName: string): string {
    const out = `${this.feature}/${stepName}`;
    this.nodes.push(node(opType, inputs, [out]));
    return out;
  }

  /** Floor(a / divisor) into `out` (a full value name). */
  floorDiv(a: string, divisor: number, out: string): string {
    const quotient = `${out}/quotient`;
    this.nodes.push(node('Div', [a, this.constant(divisor)], [quotient]), node('Floor', [quotient], [out]));
    return out;
  }

  /** a - Floor(a / divisor)·divisor into `out`: the remainder in [0, divisor). */
  mod(a: string, divisor: number, out: string): string {
    const quotient = this.floorDiv(a, divisor, `${out}/floor`);
    const multiple = `${out}/multiple`;
    this.nodes.push(node('Mul', [quotient, this.constant(divisor)], [multiple]), node('Sub', [a, multiple], [out]));
    return out;
  }
}
