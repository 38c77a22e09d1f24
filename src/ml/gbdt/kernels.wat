;; The hottest loops of GBDT training (see kernels.ts, whose JavaScript versions they mirror),
;; as WebAssembly: without bounds checks and with plain integer addressing they run ~1.9x
;; (histogram), ~5x (partition) and ~2x (binary gradients, two rows per SIMD step) faster than
;; the JavaScript on one thread. Histogram sums are integer-valued float64 additions, exact in any
;; order, and the gradients repeat the JavaScript's operations (Math.exp's included), so the
;; model's bits do not change. One file because it is one module, assembled to kernels.wasm by
;; `npm run build:wasm` (scripts/build-wasm.ts); a unit test checks the committed binary is this
;; source's.
(module
  (memory (import "keel" "memory") 1)
  ;; JavaScript's own Math.log: the loss must be the bits binaryGradients (kernels.ts) returns.
  (import "keel" "log" (func $log (param f64) (result f64)))

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

  ;; exp(x) for x <= 0 (binaryGradients' exp(-|z|)), bit for bit the result of V8's Math.exp:
  ;; the fdlibm algorithm V8 runs (src/base/ieee754.cc, after FreeBSD's msun e_exp.c), operation
  ;; for operation, but without its branches, which random scores mispredict:
  ;; - fdlibm's cases |x| <= 0.5 ln2 (k = 0, no reduction) and 0.5 ln2 < |x| < 1.5 ln2 (k = -1)
  ;;   are the general reduction with that k: t * ln2HI and t * ln2LO are then exact (0 or the
  ;;   constant itself), and for k = 0 fdlibm's 1 - ((x c)/(c - 2) - x) equals the general
  ;;   1 - ((0 - (x c)/(2 - c)) - x) exactly, since IEEE rounding is symmetric under negation;
  ;; - |x| < 2^-28, underflow and NaN are selected at the end.
  ;; Only used when exp-check.ts finds this platform's Math.exp gives the same bits (a C compiler
  ;; that fuses multiply-adds would not).
  (func $expNonPositive (export "expNonPositive") (param $x f64) (result f64)
    (local $hx i32) (local $k i32) (local $t f64) (local $hi f64) (local $lo f64) (local $r f64)
    (local $rr f64) (local $c f64) (local $y f64) (local $scaled f64)
    (local.set $hx
      (i32.and (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $x)) (i64.const 32))) (i32.const 0x7fffffff)))
    ;; k: 0 when |x| <= 0.5 ln2, -1 below 1.5 ln2, else trunc(x / ln2 - 0.5).
    (local.set $k
      (select
        (select
          (i32.const -1)
          (i32.trunc_sat_f64_s (f64.add (f64.mul (f64.const 0x1.71547652b82fep+0) (local.get $x)) (f64.const -0.5)))
          (i32.lt_u (local.get $hx) (i32.const 0x3ff0a2b2)))
        (i32.const 0)
        (i32.gt_u (local.get $hx) (i32.const 0x3fd62e42))))
    (local.set $t (f64.convert_i32_s (local.get $k)))
    (local.set $hi (f64.sub (local.get $x) (f64.mul (local.get $t) (f64.const 0x1.62e42feep-1))))
    (local.set $lo (f64.mul (local.get $t) (f64.const 0x1.a39ef35793c76p-33)))
    (local.set $r (f64.sub (local.get $hi) (local.get $lo)))
    (local.set $rr (f64.mul (local.get $r) (local.get $r)))
    (local.set $c
      (f64.sub (local.get $r)
        (f64.mul (local.get $rr)
          (f64.add (f64.const 0x1.555555555553ep-3)
            (f64.mul (local.get $rr)
              (f64.add (f64.const -0x1.6c16c16bebd93p-9)
                (f64.mul (local.get $rr)
                  (f64.add (f64.const 0x1.1566aaf25de2cp-14)
                    (f64.mul (local.get $rr)
                      (f64.add (f64.const -0x1.bbd41c5d26bf1p-20)
                        (f64.mul (local.get $rr) (f64.const 0x1.6376972bea4d0p-25))))))))))))
    (local.set $y
      (f64.sub (f64.const 1)
        (f64.sub
          (f64.sub (local.get $lo) (f64.div (f64.mul (local.get $r) (local.get $c)) (f64.sub (f64.const 2) (local.get $c))))
          (local.get $hi))))
    ;; y * 2^k; below k = -1021 (subnormal results), as y * 2^(k + 1000) * 2^-1000.
    (local.set $scaled
      (select
        (f64.mul (local.get $y)
          (f64.reinterpret_i64 (i64.shl (i64.extend_i32_u (i32.add (i32.const 0x3ff00000) (i32.shl (local.get $k) (i32.const 20)))) (i64.const 32))))
        (f64.mul
          (f64.mul (local.get $y)
            (f64.reinterpret_i64
              (i64.shl
                (i64.extend_i32_u (i32.add (i32.const 0x3ff00000) (i32.shl (i32.add (local.get $k) (i32.const 1000)) (i32.const 20))))
                (i64.const 32))))
          (f64.const 0x1p-1000))
        (i32.ge_s (local.get $k) (i32.const -1021))))
    (select
      (f64.add (local.get $x) (local.get $x))
      (select
        (f64.const 0)
        (select
          (f64.add (f64.const 1) (local.get $x))
          (local.get $scaled)
          (i32.lt_u (local.get $hx) (i32.const 0x3e300000)))
        (f64.lt (local.get $x) (f64.const -0x1.74910d52d3051p+9)))
      (f64.ne (local.get $x) (local.get $x))))

  ;; expNonPositive on both lanes of an f64x2, with the same operations lane by lane (WebAssembly
  ;; SIMD arithmetic is IEEE per lane), so the bits are the scalar function's.
  (func $expNonPositive2 (param $x v128) (result v128)
    (local $hx v128) (local $t v128) (local $hi v128) (local $lo v128) (local $r v128) (local $rr v128)
    (local $c v128) (local $y v128) (local $k v128)
    (local.set $hx (v128.and (i64x2.shr_u (local.get $x) (i32.const 32)) (v128.const i64x2 0x7fffffff 0x7fffffff)))
    (local.set $t
      (v128.bitselect
        (v128.bitselect
          (v128.const f64x2 -1 -1)
          (f64x2.convert_low_i32x4_s
            (i32x4.trunc_sat_f64x2_s_zero
              (f64x2.add
                (f64x2.mul (v128.const f64x2 0x1.71547652b82fep+0 0x1.71547652b82fep+0) (local.get $x))
                (v128.const f64x2 -0.5 -0.5))))
          (i64x2.lt_s (local.get $hx) (v128.const i64x2 0x3ff0a2b2 0x3ff0a2b2)))
        (v128.const f64x2 0 0)
        (i64x2.gt_s (local.get $hx) (v128.const i64x2 0x3fd62e42 0x3fd62e42))))
    (local.set $hi (f64x2.sub (local.get $x) (f64x2.mul (local.get $t) (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1))))
    (local.set $lo (f64x2.mul (local.get $t) (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33)))
    (local.set $r (f64x2.sub (local.get $hi) (local.get $lo)))
    (local.set $rr (f64x2.mul (local.get $r) (local.get $r)))
    (local.set $c
      (f64x2.sub (local.get $r)
        (f64x2.mul (local.get $rr)
          (f64x2.add (v128.const f64x2 0x1.555555555553ep-3 0x1.555555555553ep-3)
            (f64x2.mul (local.get $rr)
              (f64x2.add (v128.const f64x2 -0x1.6c16c16bebd93p-9 -0x1.6c16c16bebd93p-9)
                (f64x2.mul (local.get $rr)
                  (f64x2.add (v128.const f64x2 0x1.1566aaf25de2cp-14 0x1.1566aaf25de2cp-14)
                    (f64x2.mul (local.get $rr)
                      (f64x2.add (v128.const f64x2 -0x1.bbd41c5d26bf1p-20 -0x1.bbd41c5d26bf1p-20)
                        (f64x2.mul (local.get $rr) (v128.const f64x2 0x1.6376972bea4d0p-25 0x1.6376972bea4d0p-25))))))))))))
    (local.set $y
      (f64x2.sub (v128.const f64x2 1 1)
        (f64x2.sub
          (f64x2.sub (local.get $lo)
            (f64x2.div (f64x2.mul (local.get $r) (local.get $c)) (f64x2.sub (v128.const f64x2 2 2) (local.get $c))))
          (local.get $hi))))
    ;; 2^k as bits: (1023 + k) << 52; below k = -1021, 2^(k + 1000) and a product with 2^-1000.
    (local.set $k (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $t))))
    (v128.bitselect
      (f64x2.add (local.get $x) (local.get $x))
      (v128.bitselect
        (v128.const f64x2 0 0)
        (v128.bitselect
          (f64x2.add (v128.const f64x2 1 1) (local.get $x))
          (v128.bitselect
            (f64x2.mul (local.get $y) (i64x2.shl (i64x2.add (local.get $k) (v128.const i64x2 1023 1023)) (i32.const 52)))
            (f64x2.mul
              (f64x2.mul (local.get $y) (i64x2.shl (i64x2.add (local.get $k) (v128.const i64x2 2023 2023)) (i32.const 52)))
              (v128.const f64x2 0x1p-1000 0x1p-1000))
            (i64x2.ge_s (local.get $k) (v128.const i64x2 -1021 -1021)))
          (i64x2.lt_s (local.get $hx) (v128.const i64x2 0x3e300000 0x3e300000)))
        (f64x2.lt (local.get $x) (v128.const f64x2 -0x1.74910d52d3051p+9 -0x1.74910d52d3051p+9)))
      (f64x2.ne (local.get $x) (local.get $x))))

  ;; values[i] = exp(values[i]) for i < count, every value <= 0: pairs through the SIMD function,
  ;; a last odd one through the scalar. For exp-check.ts, which checks both against Math.exp.
  (func (export "expNonPositiveArray") (param $values i32) (param $count i32)
    (local $a i32) (local $stop i32)
    (local.set $a (local.get $values))
    (local.set $stop (i32.add (local.get $values) (i32.shl (i32.and (local.get $count) (i32.const -2)) (i32.const 3))))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $a) (local.get $stop)))
        (v128.store (local.get $a) (call $expNonPositive2 (v128.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (br $pair)))
    (if (i32.and (local.get $count) (i32.const 1))
      (then (f64.store (local.get $a) (call $expNonPositive (f64.load (local.get $a)))))))

  ;; binaryGradients (kernels.ts), the same operations in the same order: quantised gradient and
  ;; hessian of rows [start, end) into gh (Int32 pairs), and their summed log loss. Rows go two at
  ;; a time through SIMD (exp, p and the quantised pair); the loss sums stay scalar and in row
  ;; order, since their additions are not exact.
  (func (export "binaryGradients")
      (param $scores i32) (param $labels i32) (param $gh i32) (param $start i32) (param $end i32)
      (param $gScale f64) (param $hScale f64) (result f64)
    (local $r i32) (local $z f64) (local $y f64) (local $e f64) (local $onePlus f64) (local $p f64)
    (local $linear f64) (local $logs f64) (local $product f64) (local $q i32)
    (local $z2 v128) (local $y2 v128) (local $e2 v128) (local $onePlus2 v128) (local $p2 v128) (local $term2 v128)
    (local.set $product (f64.const 1))
    (local.set $r (local.get $start))
    (block $pairsDone
      (loop $pair
        (br_if $pairsDone (i32.ge_s (i32.add (local.get $r) (i32.const 1)) (local.get $end)))
        (local.set $z2 (v128.load (i32.add (local.get $scores) (i32.shl (local.get $r) (i32.const 3)))))
        (local.set $y2 (v128.load (i32.add (local.get $labels) (i32.shl (local.get $r) (i32.const 3)))))
        (local.set $e2 (call $expNonPositive2 (f64x2.neg (f64x2.abs (local.get $z2)))))
        (local.set $onePlus2 (f64x2.add (v128.const f64x2 1 1) (local.get $e2)))
        (local.set $p2
          (f64x2.div
            (v128.bitselect (v128.const f64x2 1 1) (local.get $e2) (f64x2.ge (local.get $z2) (v128.const f64x2 0 0)))
            (local.get $onePlus2)))
        (local.set $term2
          (f64x2.sub
            (v128.bitselect (local.get $z2) (v128.const f64x2 0 0) (f64x2.gt (local.get $z2) (v128.const f64x2 0 0)))
            (f64x2.mul (local.get $y2) (local.get $z2))))
        (local.set $linear (f64.add (local.get $linear) (f64x2.extract_lane 0 (local.get $term2))))
        (local.set $linear (f64.add (local.get $linear) (f64x2.extract_lane 1 (local.get $term2))))
        (local.set $product (f64.mul (local.get $product) (f64x2.extract_lane 0 (local.get $onePlus2))))
        (if (f64.gt (local.get $product) (f64.const 1e270))
          (then
            (local.set $logs (f64.add (local.get $logs) (call $log (local.get $product))))
            (local.set $product (f64.const 1))))
        (local.set $product (f64.mul (local.get $product) (f64x2.extract_lane 1 (local.get $onePlus2))))
        (if (f64.gt (local.get $product) (f64.const 1e270))
          (then
            (local.set $logs (f64.add (local.get $logs) (call $log (local.get $product))))
            (local.set $product (f64.const 1))))
        ;; [g0, h0, g1, h1]: the two rows' Int32 pairs, truncated as an Int32Array store would.
        (v128.store (i32.add (local.get $gh) (i32.shl (local.get $r) (i32.const 3)))
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
            (i32x4.trunc_sat_f64x2_s_zero
              (f64x2.mul (f64x2.sub (local.get $p2) (local.get $y2)) (f64x2.splat (local.get $gScale))))
            (i32x4.trunc_sat_f64x2_s_zero
              (f64x2.mul
                (f64x2.mul (local.get $p2) (f64x2.sub (v128.const f64x2 1 1) (local.get $p2)))
                (f64x2.splat (local.get $hScale))))))
        (local.set $r (i32.add (local.get $r) (i32.const 2)))
        (br $pair)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_s (local.get $r) (local.get $end)))
        (local.set $z (f64.load (i32.add (local.get $scores) (i32.shl (local.get $r) (i32.const 3)))))
        (local.set $y (f64.load (i32.add (local.get $labels) (i32.shl (local.get $r) (i32.const 3)))))
        (local.set $e (call $expNonPositive (f64.neg (f64.abs (local.get $z)))))
        (local.set $onePlus (f64.add (f64.const 1) (local.get $e)))
        (local.set $p
          (f64.div (select (f64.const 1) (local.get $e) (f64.ge (local.get $z) (f64.const 0))) (local.get $onePlus)))
        (local.set $linear
          (f64.add (local.get $linear)
            (f64.sub
              (select (local.get $z) (f64.const 0) (f64.gt (local.get $z) (f64.const 0)))
              (f64.mul (local.get $y) (local.get $z)))))
        (local.set $product (f64.mul (local.get $product) (local.get $onePlus)))
        (if (f64.gt (local.get $product) (f64.const 1e270))
          (then
            (local.set $logs (f64.add (local.get $logs) (call $log (local.get $product))))
            (local.set $product (f64.const 1))))
        ;; An Int32Array store truncates towards zero; |values| < 2^31 here, so trunc_sat does too.
        (local.set $q (i32.add (local.get $gh) (i32.shl (local.get $r) (i32.const 3))))
        (i32.store (local.get $q)
          (i32.trunc_sat_f64_s (f64.mul (f64.sub (local.get $p) (local.get $y)) (local.get $gScale))))
        (i32.store offset=4 (local.get $q)
          (i32.trunc_sat_f64_s
            (f64.mul (f64.mul (local.get $p) (f64.sub (f64.const 1) (local.get $p))) (local.get $hScale))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
    (f64.add (local.get $linear) (f64.add (local.get $logs) (call $log (local.get $product)))))

  ;; maxAbsResidual (kernels.ts): the largest |scores[r] - labels[r]| over rows [start, end). A
  ;; NaN difference is skipped, as the JavaScript comparison skips it (f64.max would keep it).
  (func (export "maxAbsResidual") (param $scores i32) (param $labels i32) (param $start i32) (param $end i32) (result f64)
    (local $r i32) (local $d f64) (local $max f64)
    (local.set $r (local.get $start))
    (block $done
      (loop $row
        (br_if $done (i32.ge_s (local.get $r) (local.get $end)))
        (local.set $d
          (f64.abs
            (f64.sub
              (f64.load (i32.add (local.get $scores) (i32.shl (local.get $r) (i32.const 3))))
              (f64.load (i32.add (local.get $labels) (i32.shl (local.get $r) (i32.const 3)))))))
        (local.set $max (select (local.get $d) (local.get $max) (f64.gt (local.get $d) (local.get $max))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
    (local.get $max))

  ;; squaredErrorGradients (kernels.ts): quantised gradient (score - label) and hessian 1 of rows
  ;; [start, end) into gh, two rows per SIMD step; returns the sum of squared residuals, added in
  ;; row order as the JavaScript adds them.
  (func (export "squaredErrorGradients")
      (param $scores i32) (param $labels i32) (param $gh i32) (param $start i32) (param $end i32) (param $gScale f64)
      (result f64)
    (local $r i32) (local $d f64) (local $d2 v128) (local $squares v128) (local $loss f64)
    (local.set $r (local.get $start))
    (block $pairsDone
      (loop $pair
        (br_if $pairsDone (i32.ge_s (i32.add (local.get $r) (i32.const 1)) (local.get $end)))
        (local.set $d2
          (f64x2.sub
            (v128.load (i32.add (local.get $scores) (i32.shl (local.get $r) (i32.const 3))))
            (v128.load (i32.add (local.get $labels) (i32.shl (local.get $r) (i32.const 3))))))
        (local.set $squares (f64x2.mul (local.get $d2) (local.get $d2)))
        (local.set $loss (f64.add (local.get $loss) (f64x2.extract_lane 0 (local.get $squares))))
        (local.set $loss (f64.add (local.get $loss) (f64x2.extract_lane 1 (local.get $squares))))
        ;; [g0, 1, g1, 1]
        (v128.store (i32.add (local.get $gh) (i32.shl (local.get $r) (i32.const 3)))
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
            (i32x4.trunc_sat_f64x2_s_zero (f64x2.mul (local.get $d2) (f64x2.splat (local.get $gScale))))
            (v128.const i32x4 1 1 1 1)))
        (local.set $r (i32.add (local.get $r) (i32.const 2)))
        (br $pair)))
    (if (i32.lt_s (local.get $r) (local.get $end))
      (then
        (local.set $d
          (f64.sub
            (f64.load (i32.add (local.get $scores) (i32.shl (local.get $r) (i32.const 3))))
            (f64.load (i32.add (local.get $labels) (i32.shl (local.get $r) (i32.const 3))))))
        (local.set $loss (f64.add (local.get $loss) (f64.mul (local.get $d) (local.get $d))))
        (i32.store (i32.add (local.get $gh) (i32.shl (local.get $r) (i32.const 3)))
          (i32.trunc_sat_f64_s (f64.mul (local.get $d) (local.get $gScale))))
        (i32.store offset=4 (i32.add (local.get $gh) (i32.shl (local.get $r) (i32.const 3))) (i32.const 1))))
    (local.get $loss))
)
