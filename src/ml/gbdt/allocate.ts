type TypedArrayConstructor<T> = { new (buffer: ArrayBufferLike): T; BYTES_PER_ELEMENT: number };

/** A zeroed typed array, on a SharedArrayBuffer when `shared` (visible to helper threads). */
export function allocate<T>(ctor: TypedArrayConstructor<T>, length: number, shared: boolean): T {
  const bytes = length * ctor.BYTES_PER_ELEMENT;
  return new ctor(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}
