import { newOrganizationId } from '../../domain/ids.js';
import type { Organization, OrganizationStore } from '../../domain/ports.js';
import type { PgPool } from './database.js';

interface OrganizationRow {
  id: string;
  name: string;
  created_at: string;
}

const toOrganization = (row: OrganizationRow): Organization => ({ id: row.id, name: row.name, createdAt: row.created_at });

export class PostgresOrganizationStore implements OrganizationStore {
  constructor(private readonly pool: PgPool) {}

  async create(name: string, options: { id?: string; at?: string } = {}): Promise<Organization> {
    const organization: Organization = { id: options.id ?? newOrganizationId(), name, createdAt: options.at ?? new Date().toISOString() };
    await this.pool.query('INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)', [organization.id, name, organization.createdAt]);
    return organization;
  }

  async findById(id: string): Promise<Organization | null> {
    const { rows } = await this.pool.query<OrganizationRow>('SELECT id, name, created_at FROM organizations WHERE id = $1', [id]);
    return rows[0] === undefined ? null : toOrganization(rows[0]);
  }

  async list(): Promise<Organization[]> {
    const { rows } = await this.pool.query<OrganizationRow>('SELECT id, name, created_at FROM organizations ORDER BY created_at, id');
    return rows.map(toOrganization);
  }
}
