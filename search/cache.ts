/**
 * The cache of trained programs, by structural hash and by functional
 * fingerprint. A child equal to an earlier trained child by either key is not
 * trained: it is recorded as `cached` with the earlier child's score.
 *
 * Keys are added when a child is bred, not when its score arrives, so a child
 * equivalent to a sibling still being trained waits for that sibling's score
 * instead of training the same program twice. Breeding is in id order, so the
 * cache's contents at each child are the same in every run with the same seed.
 */
export class ProgramCache {
  private readonly byHash = new Map<string, number>();
  private readonly byFingerprint = new Map<string, number>();

  /** The earliest trained child with this hash or fingerprint, if any. */
  lookup(hash: string, fingerprint: string): number | undefined {
    return this.byHash.get(hash) ?? this.byFingerprint.get(fingerprint);
  }

  /** Records a child that will be trained. Earlier entries win. */
  add(id: number, hash: string, fingerprint: string): void {
    if (!this.byHash.has(hash)) this.byHash.set(hash, id);
    if (!this.byFingerprint.has(fingerprint)) this.byFingerprint.set(fingerprint, id);
  }
}
