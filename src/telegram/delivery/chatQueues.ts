/**
 * One queue per chat: a chat's updates are handled one after another (a user's second question is
 * never answered before the first), different chats' at the same time. A chat may have at most
 * `cap` updates waiting: a backlog longer than that comes from a script, not a person (the rate
 * limit already refused most of it), and is dropped rather than kept in memory.
 */
export class ChatQueues {
  /** Per chat: the end of its queue and how many updates are in it (running one included). */
  private readonly chats = new Map<string, { tail: Promise<void>; size: number }>();

  constructor(private readonly cap: number) {}

  /**
   * Runs `work` once the chat's earlier updates are done (at once for `undefined`: no chat).
   * Resolves false without running it when the chat already has `cap` updates queued.
   */
  async run(chat: string | undefined, work: () => Promise<void>): Promise<boolean> {
    if (chat === undefined) return work().then(() => true);
    const queue = this.chats.get(chat) ?? { tail: Promise.resolve(), size: 0 };
    if (queue.size >= this.cap) return false;
    const previous = queue.tail;
    const done = previous.then(work);
    queue.tail = done.catch(() => {}); // one failed update does not stop its chat's queue
    queue.size++;
    this.chats.set(chat, queue);
    try {
      await done;
      return true;
    } finally {
      if (--queue.size === 0) this.chats.delete(chat);
    }
  }

  /** Updates waiting or running in `chat`'s queue. */
  size(chat: string): number {
    return this.chats.get(chat)?.size ?? 0;
  }
}
