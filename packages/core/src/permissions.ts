/** Roles of an actor, globally or in a workspace (API.md 3). */
export type Role = 'observer' | 'editor' | 'approver' | 'publisher' | 'admin';

/** Every role, least to most privileged. */
export const ROLES: readonly Role[] = Object.freeze(['observer', 'editor', 'approver', 'publisher', 'admin']);

/** Whoever calls the admin API, as the host's `authenticateAdmin` returns them. */
export interface Actor {
  id: string;
  role?: Role;
  /** Role per workspace id. */
  workspaceRoles?: Record<string, Role>;
  sysadmin?: boolean;
}

/** What an actor may try to do through the admin API. */
export type AdminAction =
  | 'token.read'
  | 'token.generate'
  | 'token.revoke'
  | 'settings.read'
  | 'settings.write'
  | 'audit.read'
  | 'profiles.export';

/** Every admin action. */
export const ADMIN_ACTIONS: readonly AdminAction[] = Object.freeze([
  'token.read',
  'token.generate',
  'token.revoke',
  'settings.read',
  'settings.write',
  'audit.read',
  'profiles.export',
]);

/** The outcome of `authorize`; a denial names the right that is missing. */
export type Decision = { allowed: true } | { allowed: false; reason: string };

const TOKEN_ROLES: readonly Role[] = ['approver', 'publisher', 'admin'];
const SETTINGS_ROLES: readonly Role[] = ['admin'];

interface Rule {
  /** null: any authenticated actor. */
  roles: readonly Role[] | null;
  /** What the action is, for the denial: "<doing> needs …". */
  doing: string;
}

const RULES: Readonly<Record<AdminAction, Rule>> = {
  'token.read': { roles: TOKEN_ROLES, doing: 'Reading the profile token' },
  'token.generate': { roles: TOKEN_ROLES, doing: 'Generating the profile token' },
  'token.revoke': { roles: TOKEN_ROLES, doing: 'Revoking the profile token' },
  'settings.read': { roles: null, doing: 'Reading the settings' },
  'settings.write': {
    roles: SETTINGS_ROLES,
    doing: 'Changing the settings (Require Authentication, profile retention)',
  },
  'audit.read': { roles: null, doing: 'Reading the audit log' },
  'profiles.export': { roles: SETTINGS_ROLES, doing: 'Exporting the profiles' },
};

const ALLOWED: Decision = Object.freeze({ allowed: true });

function listRoles(roles: readonly Role[]): string {
  const names = roles.length === 1 ? roles[0] : `${roles.slice(0, -1).join(', ')} or ${roles[roles.length - 1]}`;
  return `the ${names} role`;
}

function isWorkspaceAdmin(actor: Actor): boolean {
  const roles = actor.workspaceRoles;
  if (typeof roles !== 'object' || roles === null) return false;
  return Object.values(roles).some((role) => role === 'admin');
}

/**
 * Whether `actor` may do `action` (API.md 3). Pure: no I/O, no clock. Workspace admins and
 * sysadmins may do everything; only `sysadmin === true` counts, never a truthy non-boolean.
 */
export function authorize(actor: Actor, action: AdminAction): Decision {
  // hasOwn: an action named like an Object.prototype member must not find a "rule".
  if (!Object.hasOwn(RULES, action)) return { allowed: false, reason: `Unknown admin action ${String(action)}` };
  const rule = RULES[action];
  if (rule.roles === null) return ALLOWED;
  if (actor.sysadmin === true || isWorkspaceAdmin(actor)) return ALLOWED;
  if (actor.role !== undefined && rule.roles.includes(actor.role)) return ALLOWED;
  return { allowed: false, reason: `${rule.doing} needs ${listRoles(rule.roles)}, workspace admin or sysadmin` };
}

const MAX_ID_LENGTH = 256;

function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * Checks a value a host's `authenticateAdmin` returned: a non-empty `id` of at most 256
 * characters, a known `role`, a plain object of known workspace roles, a boolean `sysadmin`.
 * Other properties (the host's own user fields) are allowed and ignored.
 */
export function isActor(value: unknown): value is Actor {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const actor = value as Record<string, unknown>;
  if (typeof actor.id !== 'string' || actor.id.trim() === '' || actor.id.length > MAX_ID_LENGTH) return false;
  if (actor.role !== undefined && !isRole(actor.role)) return false;
  if (actor.sysadmin !== undefined && typeof actor.sysadmin !== 'boolean') return false;
  const workspaces = actor.workspaceRoles;
  if (workspaces !== undefined) {
    if (typeof workspaces !== 'object' || workspaces === null || Array.isArray(workspaces)) return false;
    const proto = Object.getPrototypeOf(workspaces) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    for (const [workspace, role] of Object.entries(workspaces)) {
      if (workspace === '' || !isRole(role)) return false;
    }
  }
  return true;
}
