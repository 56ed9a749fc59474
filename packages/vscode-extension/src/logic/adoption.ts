/**
 * Adopting a token found in the workspace: of the client's tokens the scan found, which may be
 * adopted (a token of this client, not expired: checkPastedToken's rule), newest first, each with
 * the words of its quick-pick row. Adopting stores it as the current token, so the next rotation
 * knows exactly which value to replace. Pure: the scan and the clock are arguments.
 */
import { describeTimeLeft, maskToken } from '@profilegate/client';
import { isoDay } from './messages';
import { checkPastedToken } from './token-check';

/** A token found in the workspace and where (as the scan reports it). */
export interface FoundTokenFiles {
  token: string;
  files: string[];
}

/** A token that may be adopted, with its row in the quick pick. */
export interface AdoptionCandidate {
  token: string;
  files: string[];
  expiresAt: number;
  label: string;
  description: string;
  detail: string;
}

/** The candidates (newest first) and how many tokens were left out, and why. */
export interface AdoptionChoice {
  candidates: AdoptionCandidate[];
  /** Tokens of the client found but not offered (expired, malformed), with the reason. */
  leftOut: Array<{ masked: string; reason: string }>;
}

/** `.env`, `.env and config/app.json`, `.env and 2 more files`. */
export function describeFiles(files: readonly string[]): string {
  if (files.length <= 2) return files.join(' and ');
  return `${files[0]} and ${files.length - 1} more files`;
}

/** Sorts out which found tokens may be adopted. */
export function adoptionCandidates(found: readonly FoundTokenFiles[], client: string, now: number): AdoptionChoice {
  const candidates: Array<AdoptionCandidate & { issuedAt: number }> = [];
  const leftOut: AdoptionChoice['leftOut'] = [];
  for (const { token, files } of found) {
    const check = checkPastedToken(token, client, now);
    if (!check.ok) {
      leftOut.push({ masked: maskToken(token), reason: check.reason });
      continue;
    }
    const { expiresAt, issuedAt } = check.claims;
    candidates.push({
      token,
      files: [...files],
      expiresAt,
      issuedAt: issuedAt ?? 0,
      label: `$(key) ${maskToken(token)}`,
      description: `expires in ${describeTimeLeft(expiresAt - now)} (${isoDay(expiresAt)})`,
      detail: `In ${describeFiles(files)}`,
    });
  }
  candidates.sort((a, b) => b.issuedAt - a.issuedAt || b.expiresAt - a.expiresAt);
  return { candidates: candidates.map(({ issuedAt: _issuedAt, ...rest }) => rest), leftOut };
}

/**
 * The one-time offer shown when a workspace that uses Profilegate holds a usable token of the
 * client while none is stored in VS Code; undefined when there is nothing to offer.
 */
export function adoptionOffer(choice: AdoptionChoice, client: string): string | undefined {
  const first = choice.candidates[0];
  if (first === undefined) return undefined;
  const where =
    choice.candidates.length === 1
      ? `a token of client ${client} (${maskToken(first.token)}, in ${describeFiles(first.files)})`
      : `${choice.candidates.length} tokens of client ${client}`;
  return `This workspace holds ${where}, and none is stored in VS Code. Adopt it, so the status bar counts down its expiry and the next rotation replaces its copies?`;
}
