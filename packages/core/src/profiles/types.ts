/** One stored attribute value with the time it last changed. */
export interface AttributeValue {
  value: string;
  /** Epoch milliseconds. */
  modifiedAt: number;
}

/** A visitor profile of one client. */
export interface Profile {
  pcId: string;
  thirdPartyId?: string;
  /** The Experience Cloud ID linked to the profile (at most one; it names no other profile of the client). */
  marketingCloudVisitorId?: string;
  attributes: Record<string, AttributeValue>;
  /** Epoch milliseconds of the last change to any attribute (or creation). */
  modifiedAt: number;
}

/**
 * How a batch row names its profile (API.md 2.1): the keys a profile can be created by. Batches
 * never name a profile by Experience Cloud ID.
 */
export type BatchKey = { kind: 'pcId'; id: string } | { kind: 'thirdPartyId'; id: string };

/** How a single update or a fetch names its profile: a batch key, or a linked Experience Cloud ID. */
export type ProfileKey = BatchKey | { kind: 'marketingCloudVisitorId'; id: string };

/**
 * An update to one profile: new attribute values (empty strings already removed), and the names
 * of attributes to remove (API.md 5). Removals apply first, then the values: front ends refuse a
 * name that is in both. Removing an attribute the profile lacks changes nothing.
 */
export interface ProfileUpdate<K extends ProfileKey = ProfileKey> {
  key: K;
  attributes: Record<string, string>;
  /** Attribute names to remove (valid names, without the `profile.` prefix); absent or empty: none. */
  remove?: readonly string[];
}
