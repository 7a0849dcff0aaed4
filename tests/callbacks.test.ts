/** Button data: written and read by one codec, within Telegram's 64 bytes. */
import { describe, expect, it } from 'vitest';
import { answerOfButtons, Callback, CALLBACKS } from '../src/telegram/ui/callbacks.js';

describe('callback data', () => {
  it('reads back what it writes, by field name; another kind reads as undefined', () => {
    const data = CALLBACKS.removeYes.data({ doc: '0123456789abcdef' });
    expect(data).toBe('rm:y:0123456789abcdef');
    expect(CALLBACKS.removeYes.read(data)).toEqual({ doc: '0123456789abcdef' });
    expect(CALLBACKS.removePick.read(data)).toBeUndefined();
    expect(CALLBACKS.removeCancel.data({})).toBe('rm:n');
    expect(CALLBACKS.vote.read('fb:abc:sideways')).toBeUndefined();
  });

  it('refuses a field its pattern does not allow, or data over 64 bytes', () => {
    expect(() => CALLBACKS.sourcesPage.data({ page: 'x' })).toThrow(/not src callback data/);
    expect(() => new Callback('long', { text: '.+' }).data({ text: 'x'.repeat(60) })).toThrow(/not long callback data/);
  });

  it('finds the answer a message’s buttons belong to', () => {
    const buttons = [CALLBACKS.sourcesPage.data({ page: 2 }), CALLBACKS.vote.data({ answer: 'Ab_9', vote: 'up' })];
    expect(answerOfButtons(buttons)).toBe('Ab_9');
    expect(answerOfButtons([CALLBACKS.sourcesPage.data({ page: 2 })])).toBeUndefined();
  });
});
