import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ADMIN_ACTIONS, ROLES, authorize, isActor, type Actor, type AdminAction, type Role } from '../src/permissions';

const TOKEN_DENIAL = 'needs the approver, publisher or admin role, workspace admin or sysadmin';
const SETTINGS_DENIAL =
  'Changing the settings (Require Authentication, profile retention) needs the admin role, workspace admin or sysadmin';

/** API.md 3, written out by hand: which global role may do what. */
const EXPECTED: Record<Role | 'none', Record<AdminAction, boolean>> = {
  none: {
    'token.read': false,
    'token.generate': false,
    'token.revoke': false,
    'settings.read': true,
    'settings.write': false,
    'audit.read': true,
    'profiles.export': false,
  },
  observer: {
    'token.read': false,
    'token.generate': false,
    'token.revoke': false,
    'settings.read': true,
    'settings.write': false,
    'audit.read': true,
    'profiles.export': false,
  },
  editor: {
    'token.read': false,
    'token.generate': false,
    'token.revoke': false,
    'settings.read': true,
    'settings.write': false,
    'audit.read': true,
    'profiles.export': false,
  },
  approver: {
    'token.read': true,
    'token.generate': true,
    'token.revoke': true,
    'settings.read': true,
    'settings.write': false,
    'audit.read': true,
    'profiles.export': false,
  },
  publisher: {
    'token.read': true,
    'token.generate': true,
    'token.revoke': true,
    'settings.read': true,
    'settings.write': false,
    'audit.read': true,
    'profiles.export': false,
  },
  admin: {
    'token.read': true,
    'token.generate': true,
    'token.revoke': true,
    'settings.read': true,
    'settings.write': true,
    'audit.read': true,
    'profiles.export': true,
  },
};

const DENIALS: Record<AdminAction, string | null> = {
  'token.read': `Reading the profile token ${TOKEN_DENIAL}`,
  'token.generate': `Generating the profile token ${TOKEN_DENIAL}`,
  'token.revoke': `Revoking the profile token ${TOKEN_DENIAL}`,
  'settings.read': null,
  'settings.write': SETTINGS_DENIAL,
  'audit.read': null,
  'profiles.export': 'Exporting the profiles needs the admin role, workspace admin or sysadmin',
};

function check(actor: Actor, action: AdminAction, allowed: boolean): void {
  const decision = authorize(actor, action);
  if (allowed) {
    assert.deepEqual(decision, { allowed: true });
  } else {
    assert.deepEqual(decision, { allowed: false, reason: DENIALS[action] });
  }
}

describe('authorize', () => {
  it('knows every role and action of the contract', () => {
    assert.deepEqual([...ROLES], ['observer', 'editor', 'approver', 'publisher', 'admin']);
    assert.deepEqual([...ADMIN_ACTIONS].sort(), Object.keys(DENIALS).sort());
    assert.ok(Object.isFrozen(ROLES) && Object.isFrozen(ADMIN_ACTIONS));
  });

  describe('global role × action', () => {
    for (const role of ['none', ...ROLES] as const) {
      for (const action of ADMIN_ACTIONS) {
        const allowed = EXPECTED[role][action];
        it(`${role} ${allowed ? 'may' : 'may not'} ${action}`, () => {
          check(role === 'none' ? { id: 'u' } : { id: 'u', role }, action, allowed);
        });
      }
    }
  });

  describe('workspace role × action (no global role)', () => {
    for (const role of ROLES) {
      for (const action of ADMIN_ACTIONS) {
        // Only a workspace admin gains rights; other workspace roles count for nothing here.
        const allowed = role === 'admin' || EXPECTED.none[action];
        it(`workspace ${role} ${allowed ? 'may' : 'may not'} ${action}`, () => {
          check({ id: 'u', workspaceRoles: { w1: role } }, action, allowed);
          check({ id: 'u', workspaceRoles: { w1: 'observer', w2: role } }, action, allowed);
        });
      }
    }
  });

  describe('sysadmin × action', () => {
    for (const action of ADMIN_ACTIONS) {
      it(`sysadmin may ${action}, whatever their role`, () => {
        check({ id: 'root', sysadmin: true }, action, true);
        check({ id: 'root', sysadmin: true, role: 'observer' }, action, true);
      });
      it(`sysadmin: false grants nothing for ${action}`, () => {
        check({ id: 'u', sysadmin: false }, action, EXPECTED.none[action]);
        check({ id: 'u', sysadmin: false, role: 'approver' }, action, EXPECTED.approver[action]);
      });
    }
  });

  it('a workspace admin lifts a lower global role', () => {
    check({ id: 'u', role: 'observer', workspaceRoles: { w: 'admin' } }, 'settings.write', true);
    check({ id: 'u', role: 'editor', workspaceRoles: { w: 'admin' } }, 'token.generate', true);
  });

  it('fails closed on values that bypassed isActor', () => {
    const forged = (value: object) => value as unknown as Actor;
    check(forged({ id: 'u', sysadmin: 'true' }), 'token.generate', false);
    check(forged({ id: 'u', role: 'Admin' }), 'token.generate', false);
    check(forged({ id: 'u', role: 'superuser' }), 'settings.write', false);
    check(forged({ id: 'u', workspaceRoles: null }), 'token.read', false);
    check(forged({ id: 'u', workspaceRoles: Object.create({ inherited: 'admin' }) as object }), 'token.read', false);
    assert.deepEqual(authorize({ id: 'root', sysadmin: true }, 'toString' as AdminAction), {
      allowed: false,
      reason: 'Unknown admin action toString',
    });
  });

  it('is monotone: adding a right never turns an allowed action into a denial (property)', () => {
    const role = fc.option(fc.constantFrom(...ROLES), { nil: undefined });
    const actorArb = fc.record(
      {
        id: fc.constantFrom('ops', 'u-1'),
        role,
        workspaceRoles: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.constantFrom(...ROLES)), {
          nil: undefined,
        }),
        sysadmin: fc.option(fc.boolean(), { nil: undefined }),
      },
      { requiredKeys: ['id'] },
    );
    fc.assert(
      fc.property(actorArb, fc.constantFrom(...ADMIN_ACTIONS), (actor, action) => {
        assert.ok(isActor(actor));
        const before = authorize(actor, action).allowed;
        assert.equal(authorize({ ...actor, sysadmin: true }, action).allowed, true);
        assert.equal(
          authorize({ ...actor, workspaceRoles: { ...actor.workspaceRoles, extra: 'admin' } }, action).allowed,
          true,
        );
        if (before) assert.equal(authorize({ ...actor, role: 'admin' }, action).allowed, true);
      }),
    );
  });
});

describe('isActor', () => {
  const valid: unknown[] = [
    { id: 'ops' },
    { id: 'ops', role: 'approver' },
    { id: 'ops', workspaceRoles: {} },
    { id: 'ops', workspaceRoles: { default: 'admin', w2: 'observer' } },
    { id: 'ops', sysadmin: false },
    { id: 'ops', role: 'admin', sysadmin: true, email: 'ops@example.com' },
    { id: 'ops', workspaceRoles: Object.assign(Object.create(null) as object, { w: 'editor' }) },
  ];
  const invalid: unknown[] = [
    null,
    undefined,
    'ops',
    42,
    [],
    {},
    { id: '' },
    { id: '   ' },
    { id: 7 },
    { id: 'x'.repeat(257) },
    { id: 'ops', role: 'Admin' },
    { id: 'ops', role: 'root' },
    { id: 'ops', role: null },
    { id: 'ops', sysadmin: 'yes' },
    { id: 'ops', sysadmin: 1 },
    { id: 'ops', workspaceRoles: [] },
    { id: 'ops', workspaceRoles: null },
    { id: 'ops', workspaceRoles: { w: 'owner' } },
    { id: 'ops', workspaceRoles: { '': 'admin' } },
    { id: 'ops', workspaceRoles: new Map([['w', 'admin']]) },
  ];
  for (const value of valid) it(`accepts ${JSON.stringify(value)}`, () => assert.equal(isActor(value), true));
  for (const value of invalid)
    it(`refuses ${JSON.stringify(value) ?? String(value)}`, () => assert.equal(isActor(value), false));
});
