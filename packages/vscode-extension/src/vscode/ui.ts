/**
 * The real UI: password input boxes, modal warnings, notifications with buttons and progress,
 * through `vscode.window`. Buttons are handled when chosen; the command does not wait for them.
 */
import * as vscode from 'vscode';
import type { ConfirmRequest, MessageAction, MessageLevel, PickRequest, SecretRequest, Ui } from '../commands/ports';

/** The Ui of the commands, on `vscode.window`. */
export class VsCodeUi implements Ui {
  constructor(private readonly onActionError: (error: unknown) => void) {}

  async askSecret(request: SecretRequest): Promise<string | undefined> {
    return vscode.window.showInputBox({
      title: request.title,
      prompt: request.prompt,
      placeHolder: request.placeHolder,
      password: true,
      ignoreFocusOut: true,
      validateInput: request.validate,
    });
  }

  async confirm(request: ConfirmRequest): Promise<boolean> {
    const choice = await vscode.window.showWarningMessage(
      request.message,
      { modal: true, detail: request.detail },
      request.confirmTitle,
    );
    return choice === request.confirmTitle;
  }

  show(level: MessageLevel, message: string, actions: readonly MessageAction[] = []): void {
    const titles = actions.map((action) => action.title);
    const shown =
      level === 'error'
        ? vscode.window.showErrorMessage(message, ...titles)
        : level === 'warning'
          ? vscode.window.showWarningMessage(message, ...titles)
          : vscode.window.showInformationMessage(message, ...titles);
    shown.then(
      async (choice) => {
        const action = actions.find((a) => a.title === choice);
        if (action === undefined) return;
        try {
          await action.run();
        } catch (error) {
          this.onActionError(error);
        }
      },
      (error: unknown) => this.onActionError(error),
    );
  }

  async pick<T>(request: PickRequest<T>): Promise<T | undefined> {
    type Row = vscode.QuickPickItem & { value?: T };
    const rows: Row[] = request.items.map((item) =>
      'separator' in item
        ? { label: item.separator, kind: vscode.QuickPickItemKind.Separator }
        : { label: item.label, description: item.description, detail: item.detail, value: item.value },
    );
    const chosen = await vscode.window.showQuickPick(rows, {
      title: request.title,
      placeHolder: request.placeHolder,
      matchOnDescription: true,
      matchOnDetail: true,
    });
    return chosen?.value;
  }

  withProgress<T>(title: string, task: () => Promise<T>): Promise<T> {
    return Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () => task()),
    );
  }
}
