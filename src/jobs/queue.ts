// Pending job ids in submission order (FIFO).
export class JobQueue {
  #ids: string[] = []

  get size (): number {
    return this.#ids.length
  }

  push (id: string): void {
    this.#ids.push(id)
  }

  /** Puts an id back first in line (a start that must be tried again). */
  pushFront (id: string): void {
    this.#ids.unshift(id)
  }

  /** Takes the first id (or the first that `eligible` accepts, leaving the others in place). */
  shift (eligible?: (id: string) => boolean): string | undefined {
    if (!eligible) return this.#ids.shift()
    const index = this.#ids.findIndex(eligible)
    return index === -1 ? undefined : this.#ids.splice(index, 1)[0]
  }

  /** 1 for the next job to start, undefined when the id is not queued. */
  positionOf (id: string): number | undefined {
    const index = this.#ids.indexOf(id)
    return index === -1 ? undefined : index + 1
  }

  remove (id: string): boolean {
    const index = this.#ids.indexOf(id)
    if (index !== -1) this.#ids.splice(index, 1)
    return index !== -1
  }

  drain (): string[] {
    const ids = this.#ids
    this.#ids = []
    return ids
  }
}
