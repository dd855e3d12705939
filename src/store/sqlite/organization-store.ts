import { newOrganizationId } from '../../domain/ids.js';
import type { SqliteDatabase } from './database.js';

export interface Organization {
  id: string;
  name: string;
  createdAt: string;
}

interface OrganizationRow {
  id: string;
  name: string;
  created_at: string;
}

export class SqliteOrganizationStore {
  constructor(private readonly db: SqliteDatabase) {}

  create(name: string, options: { id?: string; at?: string } = {}): Organization {
    const organization: Organization = {
      id: options.id ?? newOrganizationId(),
      name,
      createdAt: options.at ?? new Date().toISOString(),
    };
    this.db
      .prepare('INSERT INTO organizations (id, name, created_at) VALUES (@id, @name, @createdAt)')
      .run(organization);
    return organization;
  }

  findById(id: string): Organization | null {
    const row = this.db
      .prepare<[string], OrganizationRow>('SELECT id, name, created_at FROM organizations WHERE id = ?')
      .get(id);
    return row === undefined ? null : { id: row.id, name: row.name, createdAt: row.created_at };
  }

  list(): Organization[] {
    return this.db
      .prepare<[], OrganizationRow>('SELECT id, name, created_at FROM organizations ORDER BY created_at, id')
      .all()
      .map((row) => ({ id: row.id, name: row.name, createdAt: row.created_at }));
  }
}
