import { createHmac, hkdfSync, type KeyObject } from 'node:crypto';
import type { Profile, ProfileKey } from './profiles/types';
import type { KeyRing, SigningKey } from './tokens/keys';

/**
 * What the audit MAC key is derived under (HKDF-SHA256 info): its own key, apart from the one
 * that signs tokens, so a hash in the audit log can never serve as a token signature. Versioned,
 * should it ever change.
 */
export const PROFILE_ID_HASH_LABEL = 'profilegate audit profile id v1';

// One derivation per signing key, not one per deletion.
const macKeys = new WeakMap<KeyObject, Buffer>();

function macKeyOf(key: SigningKey): Buffer {
  let macKey = macKeys.get(key.key);
  if (macKey === undefined) {
    macKey = Buffer.from(hkdfSync('sha256', key.key, Buffer.alloc(0), PROFILE_ID_HASH_LABEL, 32));
    macKeys.set(key.key, macKey);
  }
  return macKey;
}

/**
 * The keyed hash of one profile id that the audit log keeps instead of the id (API.md 5):
 * HMAC-SHA256, under a key derived from signing key `key`, of `["client","kind","id"]`, in
 * base64url. Whoever holds the signing key can tell whether a given id was deleted; the log alone
 * tells nothing about the ids.
 */
export function profileIdHash(key: SigningKey, client: string, kind: ProfileKey['kind'], id: string): string {
  return createHmac('sha256', macKeyOf(key))
    .update(JSON.stringify([client, kind, id]))
    .digest('base64url');
}

/** The details of a `profile.deleted` event: the kid of the hashing key and a hash of each of the profile's ids. */
export function profileDeletedDetails(keys: KeyRing, client: string, profile: Profile): Record<string, unknown> {
  const key = keys.active();
  const ids: Partial<Record<ProfileKey['kind'], string>> = { pcId: profileIdHash(key, client, 'pcId', profile.pcId) };
  if (profile.thirdPartyId !== undefined) {
    ids.thirdPartyId = profileIdHash(key, client, 'thirdPartyId', profile.thirdPartyId);
  }
  if (profile.marketingCloudVisitorId !== undefined) {
    ids.marketingCloudVisitorId = profileIdHash(
      key,
      client,
      'marketingCloudVisitorId',
      profile.marketingCloudVisitorId,
    );
  }
  return { kid: key.kid, ids };
}
