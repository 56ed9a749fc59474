/**
 * Offers, once per workspace, to adopt a token of the client found in the workspace files, where
 * Profilegate is in use (workspace settings or a stored admin key) and no token is stored yet.
 * The button runs Adopt Token Found in Workspace…; the offer is remembered in workspaceState.
 */
import type * as vscode from 'vscode';
import { COMMANDS } from '../commands';
import type { SecretStore, TokenFileUpdater, Ui, Workbench } from '../commands/ports';
import { adoptionCandidates, adoptionOffer } from '../logic/adoption';
import { secretKeys, type SettingsResult } from '../logic/settings';

/** The workspaceState key that remembers the offer was made. */
export const ADOPTION_OFFERED = 'profilegate.adoptionOffered';

/** What the offer needs. */
export interface AdoptionOfferDeps {
  settings: () => SettingsResult;
  configuredInWorkspace: () => boolean;
  secrets: SecretStore;
  files: TokenFileUpdater;
  state: vscode.Memento;
  ui: () => Ui;
  workbench: Workbench;
  now: () => number;
}

/** Shows the offer when it applies; true when it was shown. */
export async function offerAdoption(deps: AdoptionOfferDeps): Promise<boolean> {
  const result = deps.settings();
  if (!result.ok || deps.state.get<boolean>(ADOPTION_OFFERED) === true) return false;
  const { settings } = result;
  // Adobe's opaque tokens are never guessed from files: nothing to adopt.
  if (settings.target === 'adobe') return false;
  const keys = secretKeys(settings);
  const [token, adminKey] = await Promise.all([deps.secrets.get(keys.token), deps.secrets.get(keys.adminKey)]);
  if (token !== undefined || (adminKey === undefined && !deps.configuredInWorkspace())) return false;
  const found = await deps.files.findClientTokens(settings.client, settings.exclude);
  const message = adoptionOffer(adoptionCandidates(found, settings.client, deps.now()), settings.client);
  if (message === undefined) return false;
  await deps.state.update(ADOPTION_OFFERED, true);
  deps
    .ui()
    .show('info', message, [
      { title: 'Adopt Token…', run: () => deps.workbench.executeCommand(COMMANDS.adoptWorkspaceToken) },
    ]);
  return true;
}
