;; The two hottest loops of GBDT training (see kernels.ts, whose JavaScript versions they mirror),
;; as WebAssembly: without bounds checks and with plain integer addressing they run ~1.9x
;; (histogram) and ~5x (partition) faster than the JavaScript on one thread. Histogram sums are
;; integer-valued float64 additions, exact in any order, so the model's bits do not change.
;; Assembled to kernels.wasm by `npm run build:wasm` (scripts/build-wasm.ts); a unit test checks
;; the committed binary is this source's.
(module
  (memory (import "keel" "memory") 1)

  ;; Adds one row's (g, h, 1) into the histogram at byte address $base, for every feature
  ;; ($all = 1: feature k is k) or the $active features listed at $features (Int32).
  ;; $p: byte address of the row's first Uint16 histogram offset. $unit = 1 skips the hessian.
  (func $addRow (param $p i32) (param $features i32) (param $active i32) (param $all i32) (param $unit i32)
      (param $base i32) (param $g f64) (param $h f64)
    (local $k i32) (local $a i32)
    (block $done
      (loop $feature
        (br_if $done (i32.ge_s (local.get $k) (local.get $active)))
        (local.set $a
          (i32.add (local.get $base)
            (i32.shl
              (i32.load16_u
                (i32.add (local.get $p)
                  (i32.shl
                    (if (result i32) (local.get $all)
                      (then (local.get $k))
                      (else (i32.load (i32.add (local.get $features) (i32.shl (local.get $k) (i32.const 2))))))
                    (i32.const 1))))
              (i32.const 3))))
        (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $g)))
        (if (i32.eqz (local.get $unit))
          (then (f64.store offset=8 (local.get $a) (f64.add (f64.load offset=8 (local.get $a)) (local.get $h)))))
        (f64.store offset=16 (local.get $a) (f64.add (f64.load offset=16 (local.get $a)) (f64.const 1)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $feature))))

  ;; accumulateHistogram over rows[start..end) with a Uint16 histIndex. Byte addresses: $histIndex,
  ;; $features, $gh (of gh[ghBase]), $rows, $hist, $copies (0: none; else 3 histograms of $histBytes
  ;; bytes each, rows going four at a time into hist and the copies, as in kernels.ts).
  (func (export "histogram")
      (param $histIndex i32) (param $featureCount i32) (param $features i32) (param $active i32)
      (param $gh i32) (param $rows i32) (param $start i32) (param $end i32)
      (param $hist i32) (param $copies i32) (param $histBytes i32) (param $unit i32)
    (local $i i32) (local $r i32) (local $q i32) (local $all i32) (local $rowBytes i32) (local $lane i32) (local $base i32)
    (local.set $all (i32.eq (local.get $active) (local.get $featureCount)))
    (local.set $rowBytes (i32.shl (local.get $featureCount) (i32.const 1)))
    (local.set $i (local.get $start))
    (block $done
      (loop $row
        (br_if $done (i32.ge_s (local.get $i) (local.get $end)))
        (local.set $r (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $q (i32.add (local.get $gh) (i32.shl (local.get $r) (i32.const 3))))
        ;; lane 0 -> hist; lanes 1..3 -> the copies, while a whole group of four remains.
        (local.set $lane (i32.and (i32.sub (local.get $i) (local.get $start)) (i32.const 3)))
        (local.set $base (local.get $hist))
        (if (i32.and (i32.ne (local.get $copies) (i32.const 0)) (i32.ne (local.get $lane) (i32.const 0)))
          (then
            (if (i32.lt_s (i32.add (i32.sub (local.get $i) (local.get $lane)) (i32.const 3)) (local.get $end))
              (then
                (local.set $base
                  (i32.add (local.get $copies)
                    (i32.mul (i32.sub (local.get $lane) (i32.const 1)) (local.get $histBytes))))))))
        (call $addRow
          (i32.add (local.get $histIndex) (i32.mul (local.get $r) (local.get $rowBytes)))
          (local.get $features) (local.get $active) (local.get $all) (local.get $unit)
          (local.get $base)
          (f64.convert_i32_s (i32.load (local.get $q)))
          (f64.convert_i32_s (i32.load offset=4 (local.get $q))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

  ;; The common case of "histogram", written out: every feature, three copies. Four rows per
  ;; step, their features interleaved (as the JavaScript loop does), so that the four stores of a
  ;; step never wait on each other. Rows past the last whole group go to $hist. $unit = 1 skips
  ;; the hessian stores of the groups (a third of them; countsToHessians fills them in).
  (func (export "histogramAllFeatures")
      (param $histIndex i32) (param $featureCount i32) (param $gh i32) (param $rows i32)
      (param $start i32) (param $end i32) (param $hist i32) (param $copies i32) (param $histBytes i32)
      (param $unit i32)
    (local $i i32) (local $rowBytes i32) (local $k i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $g0 f64) (local $g1 f64) (local $g2 f64) (local $g3 f64)
    (local $h0 f64) (local $h1 f64) (local $h2 f64) (local $h3 f64)
    (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $q i32) (local $r i32) (local $a i32)
    (local.set $rowBytes (i32.shl (local.get $featureCount) (i32.const 1)))
    (local.set $c1 (local.get $copies))
    (local.set $c2 (i32.add (local.get $copies) (local.get $histBytes)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $histBytes)))
    (local.set $i (local.get $start))
    (block $done
      (loop $group
        (br_if $done (i32.ge_s (i32.add (local.get $i) (i32.const 3)) (local.get $end)))
        (local.set $q (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $r (i32.load (local.get $q)))
        (local.set $p0 (i32.add (local.get $histIndex) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $r (i32.add (local.get $gh) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $g0 (f64.convert_i32_s (i32.load (local.get $r))))
        (local.set $h0 (f64.convert_i32_s (i32.load offset=4 (local.get $r))))
        (local.set $r (i32.load offset=4 (local.get $q)))
        (local.set $p1 (i32.add (local.get $histIndex) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $r (i32.add (local.get $gh) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $g1 (f64.convert_i32_s (i32.load (local.get $r))))
        (local.set $h1 (f64.convert_i32_s (i32.load offset=4 (local.get $r))))
        (local.set $r (i32.load offset=8 (local.get $q)))
        (local.set $p2 (i32.add (local.get $histIndex) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $r (i32.add (local.get $gh) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $g2 (f64.convert_i32_s (i32.load (local.get $r))))
        (local.set $h2 (f64.convert_i32_s (i32.load offset=4 (local.get $r))))
        (local.set $r (i32.load offset=12 (local.get $q)))
        (local.set $p3 (i32.add (local.get $histIndex) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $r (i32.add (local.get $gh) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $g3 (f64.convert_i32_s (i32.load (local.get $r))))
        (local.set $h3 (f64.convert_i32_s (i32.load offset=4 (local.get $r))))
        (if (local.get $unit)
          (then
            (local.set $k (i32.const 0))
            (block $unitFeatures
              (loop $unitFeature
                (br_if $unitFeatures (i32.ge_s (local.get $k) (local.get $rowBytes)))
                (local.set $a (i32.add (local.get $hist) (i32.shl (i32.load16_u (i32.add (local.get $p0) (local.get $k))) (i32.const 3))))
                (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $g0)))
                (f64.store offset=16 (local.get $a) (f64.add (f64.load offset=16 (local.get $a)) (f64.const 1)))
                (local.set $a (i32.add (local.get $c1) (i32.shl (i32.load16_u (i32.add (local.get $p1) (local.get $k))) (i32.const 3))))
                (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $g1)))
                (f64.store offset=16 (local.get $a) (f64.add (f64.load offset=16 (local.get $a)) (f64.const 1)))
                (local.set $a (i32.add (local.get $c2) (i32.shl (i32.load16_u (i32.add (local.get $p2) (local.get $k))) (i32.const 3))))
                (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $g2)))
                (f64.store offset=16 (local.get $a) (f64.add (f64.load offset=16 (local.get $a)) (f64.const 1)))
                (local.set $a (i32.add (local.get $c3) (i32.shl (i32.load16_u (i32.add (local.get $p3) (local.get $k))) (i32.const 3))))
                (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $g3)))
                (f64.store offset=16 (local.get $a) (f64.add (f64.load offset=16 (local.get $a)) (f64.const 1)))
                (local.set $k (i32.add (local.get $k) (i32.const 2)))
                (br $unitFeature))))
          (else
            (local.set $k (i32.const 0))
            (block $features
              (loop $feature
                (br_if $features (i32.ge_s (local.get $k) (local.get $rowBytes)))
                (local.set $a (i32.add (local.get $hist) (i32.shl (i32.load16_u (i32.add (local.get $p0) (local.get $k))) (i32.const 3))))
                (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $g0)))
                (f64.store offset=8 (local.get $a) (f64.add (f64.load offset=8 (local.get $a)) (local.get $h0)))
                (f64.store offset=16 (local.get $a) (f64.add (f64.load offset=16 (local.get $a)) (f64.const 1)))
                (local.set $a (i32.add (local.get $c1) (i32.shl (i32.load16_u (i32.add (local.get $p1) (local.get $k))) (i32.const 3))))
                (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $g1)))
                (f64.store offset=8 (local.get $a) (f64.add (f64.load offset=8 (local.get $a)) (local.get $h1)))
                (f64.store offset=16 (local.get $a) (f64.add (f64.load offset=16 (local.get $a)) (f64.const 1)))
                (local.set $a (i32.add (local.get $c2) (i32.shl (i32.load16_u (i32.add (local.get $p2) (local.get $k))) (i32.const 3))))
                (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $g2)))
                (f64.store offset=8 (local.get $a) (f64.add (f64.load offset=8 (local.get $a)) (local.get $h2)))
                (f64.store offset=16 (local.get $a) (f64.add (f64.load offset=16 (local.get $a)) (f64.const 1)))
                (local.set $a (i32.add (local.get $c3) (i32.shl (i32.load16_u (i32.add (local.get $p3) (local.get $k))) (i32.const 3))))
                (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $g3)))
                (f64.store offset=8 (local.get $a) (f64.add (f64.load offset=8 (local.get $a)) (local.get $h3)))
                (f64.store offset=16 (local.get $a) (f64.add (f64.load offset=16 (local.get $a)) (f64.const 1)))
                (local.set $k (i32.add (local.get $k) (i32.const 2)))
                (br $feature)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $group)))
    (block $tail
      (loop $row
        (br_if $tail (i32.ge_s (local.get $i) (local.get $end)))
        (local.set $r (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $p0 (i32.add (local.get $histIndex) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $r (i32.add (local.get $gh) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $g0 (f64.convert_i32_s (i32.load (local.get $r))))
        ;; With $unit, hessians are left to countsToHessians here too: add 0.
        (local.set $h0
          (if (result f64) (local.get $unit)
            (then (f64.const 0))
            (else (f64.convert_i32_s (i32.load offset=4 (local.get $r))))))
        (local.set $k (i32.const 0))
        (block $features
          (loop $feature
            (br_if $features (i32.ge_s (local.get $k) (local.get $rowBytes)))
            (local.set $a (i32.add (local.get $hist) (i32.shl (i32.load16_u (i32.add (local.get $p0) (local.get $k))) (i32.const 3))))
            (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $g0)))
            (f64.store offset=8 (local.get $a) (f64.add (f64.load offset=8 (local.get $a)) (local.get $h0)))
            (f64.store offset=16 (local.get $a) (f64.add (f64.load offset=16 (local.get $a)) (f64.const 1)))
            (local.set $k (i32.add (local.get $k) (i32.const 2)))
            (br $feature)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

    ;; partitionRows: the rows of [start, end) whose column byte maps to 1 in the 256-byte table at
  ;; $goesLeft are written, in order, to rows[start..); the others, in order, to scratch[start..).
  ;; Returns how many went left. Branch-free, as in kernels.ts.
  (func (export "partition")
      (param $rows i32) (param $start i32) (param $end i32) (param $column i32) (param $goesLeft i32) (param $scratch i32)
      (result i32)
    (local $i i32) (local $stop i32) (local $r i32) (local $left i32) (local $right i32) (local $side i32)
    (local.set $i (i32.add (local.get $rows) (i32.shl (local.get $start) (i32.const 2))))
    (local.set $stop (i32.add (local.get $rows) (i32.shl (local.get $end) (i32.const 2))))
    (local.set $left (local.get $i))
    (local.set $right (i32.add (local.get $scratch) (i32.shl (local.get $start) (i32.const 2))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $stop)))
        (local.set $r (i32.load (local.get $i)))
        (local.set $side (i32.load8_u (i32.add (local.get $goesLeft) (i32.load8_u (i32.add (local.get $column) (local.get $r))))))
        (i32.store (local.get $left) (local.get $r))
        (i32.store (local.get $right) (local.get $r))
        (local.set $left (i32.add (local.get $left) (i32.shl (local.get $side) (i32.const 2))))
        (local.set $right (i32.add (local.get $right) (i32.shl (i32.xor (local.get $side) (i32.const 1)) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $row)))
    (i32.shr_u
      (i32.sub (local.get $left) (i32.add (local.get $rows) (i32.shl (local.get $start) (i32.const 2))))
      (i32.const 2)))

  ;; scores[rows[i] * outputs + output] += value for i in [start, end): a leaf's value added to the
  ;; scores of its rows (the executor's addLeafRange). Byte addresses: $scores (Float64), $rows.
  (func (export "addLeafValue")
      (param $scores i32) (param $rows i32) (param $start i32) (param $end i32) (param $outputs i32) (param $output i32) (param $value f64)
    (local $i i32) (local $stop i32) (local $a i32)
    (local.set $i (i32.add (local.get $rows) (i32.shl (local.get $start) (i32.const 2))))
    (local.set $stop (i32.add (local.get $rows) (i32.shl (local.get $end) (i32.const 2))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $stop)))
        (local.set $a
          (i32.add (local.get $scores)
            (i32.shl (i32.add (i32.mul (i32.load (local.get $i)) (local.get $outputs)) (local.get $output)) (i32.const 3))))
        (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $value)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $row))))
)
