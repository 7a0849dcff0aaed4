/**
 * Question-like texts made from passages: 6–12 consecutive words of each (deterministic). Used
 * where the index must be measured with queries that resemble questions rather than passages.
 */
export function pseudoQuestions(texts: string[], seed = 4242): string[] {
  let state = seed >>> 0;
  const rand = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296;
  return texts.map((text) => {
    const words = text.split(/\s+/).filter(Boolean);
    const length = 6 + Math.floor(rand() * 7);
    const from = Math.floor(rand() * Math.max(1, words.length - length));
    return (
      words
        .slice(from, from + length)
        .join(' ')
        .replace(/[.,;:]$/, '') + '?'
    );
  });
}
