/** Reads `profilegate.*` from the configuration and opens the settings UI. */
import * as vscode from 'vscode';
import type { Workbench } from '../commands/ports';
import { readSettings, type RawSettings, type SettingsResult } from '../logic/settings';

/** The raw `profilegate.*` values (validated by readSettings). */
export function readRawSettings(scope?: vscode.ConfigurationScope): RawSettings {
  const config = vscode.workspace.getConfiguration('profilegate', scope);
  return {
    serverUrl: config.get('serverUrl'),
    client: config.get('client'),
    tokenExpiresInDays: config.get('tokenExpiresInDays'),
    previousTokenGraceSeconds: config.get('previousTokenGraceSeconds'),
    filesExclude: config.get('files.exclude'),
    previewChanges: config.get('previewChanges'),
    expiryWarningDays: config.get('expiryWarningDays'),
    target: config.get('target'),
    adobeTenant: config.get('adobe.tenant'),
    adobeClientId: config.get('adobe.clientId'),
    adobeScopes: config.get('adobe.scopes'),
    adobeImsUrl: config.get('adobe.imsUrl'),
    adobeAdminUrl: config.get('adobe.adminUrl'),
    adobeAuthorizationScope: config.get('adobe.authorizationScope'),
  };
}

/** The validated settings of the window (the first workspace folder's, in a multi-root window). */
export function currentSettings(): SettingsResult {
  return readSettings(readRawSettings(vscode.workspace.workspaceFolders?.[0]?.uri));
}

/** Whether the workspace (or its first folder) sets the server URL or client: a project that uses Profilegate. */
export function configuredInWorkspace(): boolean {
  const config = vscode.workspace.getConfiguration('profilegate', vscode.workspace.workspaceFolders?.[0]?.uri);
  return ['serverUrl', 'client'].some((key) => {
    const inspected = config.inspect(key);
    return inspected?.workspaceValue !== undefined || inspected?.workspaceFolderValue !== undefined;
  });
}

/** The walkthrough of package.json (`contributes.walkthroughs`), as `<extension id>#<walkthrough id>`. */
export const WALKTHROUGH_ID = 'profilegate.profilegate#setup';

/** Workbench actions offered as notification buttons. */
export const vscodeWorkbench: Workbench = {
  executeCommand: (command, ...args) => vscode.commands.executeCommand(command, ...args),
  openSettings: (query) => vscode.commands.executeCommand('workbench.action.openSettings', query),
  openFiles: async (uris) => {
    for (const uri of uris) {
      await vscode.window.showTextDocument(vscode.Uri.parse(uri), { preview: false, preserveFocus: true });
    }
  },
  openWalkthrough: () => vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false),
};
