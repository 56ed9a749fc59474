/**
 * The real UI: password input boxes, modal warnings, notifications with buttons and progress,
 * through `vscode.window`. Buttons are handled when chosen; the command does not wait for them.
 */
import * as vscode from 'vscode';
import type { ConfirmRequest, MessageAction, MessageLevel, SecretRequest, Ui } from '../commands/ports';

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

  withProgress<T>(title: string, task: () => Promise<T>): Promise<T> {
    return Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () => task()),
    );
  }
}
