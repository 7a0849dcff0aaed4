/** The `limit` labels of `candidates[0..count)` with the highest scores, best first (ties: lower label). */
export function topByScore(
  candidates: Uint32Array | number[],
  count: number,
  scores: Float32Array | number[],
  limit: number,
): number[] {
  // A min-heap of the best so far: O(count · log limit).
  const heap: number[] = [];
  const worse = (a: number, b: number) => scores[a]! < scores[b]! || (scores[a] === scores[b] && a > b);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && worse(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let j = 0; j < count; j++) {
    const label = candidates[j]!;
    if (heap.length < limit) {
      heap.push(label);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!worse(heap[i]!, heap[parent]!)) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
    } else if (limit > 0) {
      // worse(heap[0], label) inlined: most candidates are not better than the worst kept (a
      // query at 1,000,000 passages has hundreds of thousands), and this test is all they cost.
      const worst = heap[0]!;
      const floor = scores[worst]!;
      const score = scores[label]!;
      if (!(floor < score || (floor === score && worst > label))) continue;
      heap[0] = label;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}
