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
  attributes: Record<string, AttributeValue>;
  /** Epoch milliseconds of the last change to any attribute (or creation). */
  modifiedAt: number;
}

/** How a row or a single update names its profile. */
export type ProfileKey = { kind: 'pcId'; id: string } | { kind: 'thirdPartyId'; id: string };

/** An update to one profile: new attribute values (empty strings already removed). */
export interface ProfileUpdate {
  key: ProfileKey;
  attributes: Record<string, string>;
}
