// The sign-out dialog: removing this computer's copy of the organization is offered (and
// ticked) every time; queued changes still get their own keep/discard question.
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import SignOutDialog from './SignOutDialog.svelte';

function open(queued: number) {
  const onSignOut = vi.fn();
  const onClose = vi.fn();
  render(SignOutDialog, { props: { organization: 'Acme', queued, onSignOut, onClose } });
  return { onSignOut, onClose };
}

describe('sign-out dialog', () => {
  it('offers to remove the copy, ticked, and signs out with that choice', async () => {
    const { onSignOut } = open(0);
    expect(screen.getByRole('dialog', { name: 'Sign out of Acme?' })).toBeInTheDocument();
    const remove = screen.getByRole('checkbox', { name: "Also remove this computer's copy of Acme" });
    expect(remove).toBeChecked();
    expect(remove).toHaveAccessibleDescription(/deleted from this computer/);
    expect(screen.queryByTestId('signout-pending')).not.toBeInTheDocument();
    expect(screen.getByTestId('signout-confirm')).toHaveFocus();

    await userEvent.setup().click(screen.getByTestId('signout-confirm'));
    expect(onSignOut).toHaveBeenCalledWith({ discardPending: false, removeCopy: true });
  });

  it('keeps the copy when the box is unticked, and says so', async () => {
    const { onSignOut } = open(0);
    const user = userEvent.setup();
    await user.click(screen.getByTestId('signout-remove-copy'));
    expect(screen.getByTestId('signout-remove-hint')).toHaveTextContent('stay on this computer');
    await user.click(screen.getByTestId('signout-confirm'));
    expect(onSignOut).toHaveBeenCalledWith({ discardPending: false, removeCopy: false });
  });

  it('with queued changes, asks keep or discard apart from removing the copy', async () => {
    const { onSignOut } = open(2);
    const user = userEvent.setup();
    expect(screen.getByTestId('signout-pending')).toHaveTextContent('2 changes are not saved on the server yet');
    // Removing the copy does not take kept changes with it.
    expect(screen.getByTestId('signout-remove-hint')).toHaveTextContent('Kept changes stay until they are sent');
    expect(screen.queryByTestId('signout-confirm')).not.toBeInTheDocument();
    expect(screen.getByTestId('signout-keep')).toHaveFocus();

    await user.click(screen.getByTestId('signout-keep'));
    expect(onSignOut).toHaveBeenLastCalledWith({ discardPending: false, removeCopy: true });
    await user.click(screen.getByTestId('signout-discard'));
    expect(onSignOut).toHaveBeenLastCalledWith({ discardPending: true, removeCopy: true });
    await user.click(screen.getByTestId('signout-remove-copy'));
    await user.click(screen.getByTestId('signout-keep'));
    expect(onSignOut).toHaveBeenLastCalledWith({ discardPending: false, removeCopy: false });
  });

  it('Cancel and Escape close it without signing out', async () => {
    const { onSignOut, onClose } = open(1);
    const user = userEvent.setup();
    await user.click(screen.getByTestId('signout-cancel'));
    await user.keyboard('{Escape}');
    expect(onClose).toHaveBeenCalledTimes(2);
    expect(onSignOut).not.toHaveBeenCalled();
  });
});
