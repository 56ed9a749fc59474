import type { BatchKey, Profile, ProfileUpdate } from '../profiles/types';
import type { LinkOutcome } from './types';

/**
 * The Experience Cloud ID links of one client's profiles in memory: which pcId each ECID names.
 * Only `link` changes them; updates and batches carry a profile's ECID over unchanged.
 */
export class MemoryProfileLinks {
  private readonly pcIds = new Map<string, string>();

  /** The pcId the ECID is linked to, if any. */
  pcIdOf(marketingCloudVisitorId: string): string | undefined {
    return this.pcIds.get(marketingCloudVisitorId);
  }

  /** The update keyed by the pcId its ECID is linked to; null when it names no profile (none is created by ECID). */
  resolve(update: ProfileUpdate): ProfileUpdate<BatchKey> | null {
    if (update.key.kind !== 'marketingCloudVisitorId') return { ...update, key: update.key };
    const pcId = this.pcIds.get(update.key.id);
    return pcId === undefined ? null : { ...update, key: { kind: 'pcId', id: pcId } };
  }

  /** Drops the ECID link of `profile` (being deleted), if it has one. */
  unlink(profile: Profile): void {
    if (profile.marketingCloudVisitorId !== undefined) this.pcIds.delete(profile.marketingCloudVisitorId);
  }

  /** Links the ECID to the profile `pcId` of `profiles`, taking it from the profile that held it. */
  link(profiles: Map<string, Profile>, pcId: string, marketingCloudVisitorId: string): LinkOutcome {
    const profile = profiles.get(pcId);
    if (!profile) return { status: 'notFound' };
    const holder = this.pcIds.get(marketingCloudVisitorId);
    let movedFrom: string | null = null;
    if (holder !== undefined && holder !== pcId) {
      const previous = profiles.get(holder);
      if (previous) delete previous.marketingCloudVisitorId;
      movedFrom = holder;
    }
    if (profile.marketingCloudVisitorId !== undefined) this.pcIds.delete(profile.marketingCloudVisitorId);
    profile.marketingCloudVisitorId = marketingCloudVisitorId;
    this.pcIds.set(marketingCloudVisitorId, pcId);
    return { status: 'linked', profile: structuredClone(profile), movedFrom };
  }
}
