import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { RefundKitError } from '../domain/errors.js';
import { generatePassword } from '../domain/operators/password.js';
import { CommandError, flags, required, UsageError, type Io } from './common.js';

export const OPERATORS_HELP = `Usage:
  refundkit-mcp operators create --org ORG_ID --email E --name N [--password-stdin]
      create a dashboard operator of the organization. With --password-stdin the password
      (12 to 200 characters) is read from stdin; without it one is generated and printed
      alone on the last line of stdout, this once: only its scrypt hash is stored.
  refundkit-mcp operators list [--org ORG_ID]
      list operators (id, organization, email, name, created, disabled).
  refundkit-mcp operators disable --id OPERATOR_ID
      disable an operator: its sessions end and it can no longer sign in.`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  // One trailing newline (echo, a here-string) is not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export async function runOperators(args: string[], config: () => Readonly<Config>, io: Io, stdin: () => Promise<string> = readStdin): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'create') {
    const values = flags(rest, { org: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, 'password-stdin': { type: 'boolean' } });
    if (values.help === true) return io.out(OPERATORS_HELP);
    const org = required(values.org, '--org');
    const email = required(values.email, '--email');
    const name = required(values.name, '--name');
    const generated = values['password-stdin'] !== true;
    const password = generated ? generatePassword() : await stdin();
    const app = await createApp(config());
    try {
      if ((await app.organizations.findById(org)) === null) throw new CommandError(`no organization ${org}; create one with: refundkit-mcp orgs create --name NAME`);
      const operator = await app.operatorAuth.createOperator(org, email, name, password);
      io.err(`created operator ${operator.id} (${operator.email}) of ${org}`);
      if (generated) {
        io.err('its password is shown only once:');
        io.out(password);
      }
    } catch (error) {
      if (error instanceof RefundKitError) throw new CommandError(error.message);
      throw error;
    } finally {
      await app.close();
    }
    return;
  }
  if (sub === 'list') {
    const values = flags(rest, { org: { type: 'string' } });
    if (values.help === true) return io.out(OPERATORS_HELP);
    const app = await createApp(config());
    try {
      const org = values.org === undefined ? undefined : required(values.org, '--org');
      for (const op of await app.operatorAuth.listOperators(org)) {
        io.out(`${op.id}\t${op.organizationId}\t${op.email}\t${op.name}\t${op.createdAt}\t${op.disabledAt ?? 'active'}`);
      }
    } finally {
      await app.close();
    }
    return;
  }
  if (sub === 'disable') {
    const values = flags(rest, { id: { type: 'string' } });
    if (values.help === true) return io.out(OPERATORS_HELP);
    const id = required(values.id, '--id');
    const app = await createApp(config());
    try {
      if (!(await app.operatorAuth.disableOperator(id))) throw new CommandError(`no active operator ${id}`);
      io.out(`disabled ${id}; its sessions are ended`);
    } finally {
      await app.close();
    }
    return;
  }
  throw new UsageError(`unknown operators command '${sub ?? ''}'\n\n${OPERATORS_HELP}`);
}
