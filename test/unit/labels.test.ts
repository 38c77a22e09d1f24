import { describe, expect, it } from 'vitest';
import { checkTargetValues, classLabels, codeWithClasses, regressionTargets } from '../../src/ml/labels';
import { TargetError } from '../../src/shared/errors';

describe('checkTargetValues', () => {
  it('names the 1-based dataset row of the first bad value, as a TargetError', () => {
    const check = (values: unknown[], task: 'binary' | 'regression' | 'multiclass') => () =>
      checkTargetValues(values, task, 'target "delay"');
    expect(check([1, 2.5, null, 4], 'regression')).toThrow(
      new TargetError('target "delay" must be a finite number, but dataset row 3 has null'),
    );
    expect(check([0, 1, 1, 2], 'binary')).toThrow('target "delay" must be 0 or 1, but dataset row 4 has 2');
    expect(check(['a', 'b', ''], 'multiclass')).toThrow('target "delay" is missing in dataset row 3 ("")');
    // Constant targets are the trainer's concern, not the values'.
    expect(check([3, 3, 3], 'regression')).not.toThrow();
    let thrown: unknown;
    try {
      check([null], 'binary')();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TargetError);
    expect((thrown as Error).name).toBe('TargetError');
  });
});

describe('regressionTargets', () => {
  it('reads finite numbers and numeric strings', () => {
    expect(Array.from(regressionTargets([1.5, '2', ' -3e2 ', 0], 'target "price"'))).toEqual([1.5, 2, -300, 0]);
  });

  it('names the column, the row and the value of a missing or non-numeric target', () => {
    expect(() => regressionTargets([1, null, 3], 'target "price"')).toThrow(
      'target "price" must be a finite number, but split row 2 has null',
    );
    expect(() => regressionTargets([1, 2, undefined], 'target "price"')).toThrow(
      'target "price" must be a finite number, but split row 3 has nothing',
    );
    expect(() => regressionTargets([1, 'n/a'], 'target "price"')).toThrow(
      'target "price" must be a finite number, but split row 2 has "n/a"',
    );
    expect(() => regressionTargets([Number.NaN, 1], 'target "price"')).toThrow(
      'target "price" must be a finite number, but split row 1 has NaN',
    );
    expect(() => regressionTargets([1, Infinity], 'target "price"')).toThrow('split row 2 has Infinity');
    expect(() => regressionTargets([1, ''], 'target "price"')).toThrow('split row 2 has ""');
  });

  it('rejects a constant target and an empty one', () => {
    expect(() => regressionTargets([4, '4', 4], 'target "price"')).toThrow(
      'target "price" is constant (every row is 4): there is nothing to learn',
    );
    expect(() => regressionTargets([], 'target "price"')).toThrow('target "price" has no rows to train on');
  });
});

describe('classLabels', () => {
  it('sorts numeric classes numerically and codes the rows', () => {
    const { classes, codes } = classLabels([10, 2, '2', 1, 10], 'target "grade"');
    expect(classes).toEqual(['1', '2', '10']);
    expect(Array.from(codes)).toEqual([2, 1, 1, 0, 2]);
  });

  it('sorts other classes by code units, whatever the row order', () => {
    const one = classLabels(['setosa', 'Virginica', 'versicolor', 'setosa'], 'target "species"');
    expect(one.classes).toEqual(['Virginica', 'setosa', 'versicolor']);
    expect(Array.from(one.codes)).toEqual([1, 0, 2, 1]);
    expect(classLabels(['versicolor', 'setosa', 'Virginica'], 'target "species"').classes).toEqual(one.classes);
    // A mix of numbers and words is not numeric: "10" < "9" < "a" by code units.
    expect(classLabels([9, 'a', 10], 'c').classes).toEqual(['10', '9', 'a']);
  });

  it('rejects a missing label naming its row, and a single class', () => {
    expect(() => classLabels(['a', 'b', null], 'target "species"')).toThrow('target "species" is missing in split row 3');
    expect(() => classLabels(['a', '', 'b'], 'target "species"')).toThrow('target "species" is missing in split row 2');
    expect(() => classLabels(['a', 'a'], 'target "species"')).toThrow(
      'target "species" is constant (every row is "a"): a classifier needs at least two classes',
    );
    expect(() => classLabels([], 'target "species"')).toThrow('has no rows to train on');
  });

  it('codes validation labels with the training classes', () => {
    expect(Array.from(codeWithClasses(['b', 'a'], ['a', 'b'], 'v'))).toEqual([1, 0]);
    expect(() => codeWithClasses(['a', 'z'], ['a', 'b'], 'target "c" (validation)')).toThrow(
      'target "c" (validation) has class "z" in split row 2, which is not among the training classes',
    );
  });
});
