import { newOrganizationId } from '../../domain/ids.js';
import type { Organization, OrganizationStore } from '../../domain/ports.js';
import type { SqliteDatabase } from './database.js';
import { promised } from './promised.js';

export type { Organization } from '../../domain/ports.js';

interface OrganizationRow {
  id: string;
  name: string;
  created_at: string;
}

export class SqliteOrganizationStore implements OrganizationStore {
  constructor(private readonly db: SqliteDatabase) {}

  create(name: string, options: { id?: string; at?: string } = {}): Promise<Organization> {
    return promised(() => {
      const organization: Organization = {
        id: options.id ?? newOrganizationId(),
        name,
        createdAt: options.at ?? new Date().toISOString(),
      };
      this.db.prepare('INSERT INTO organizations (id, name, created_at) VALUES (@id, @name, @createdAt)').run(organization);
      return organization;
    });
  }

  findById(id: string): Promise<Organization | null> {
    return promised(() => {
      const row = this.db
        .prepare<[string], OrganizationRow>('SELECT id, name, created_at FROM organizations WHERE id = ?')
        .get(id);
      return row === undefined ? null : { id: row.id, name: row.name, createdAt: row.created_at };
    });
  }

  list(): Promise<Organization[]> {
    return promised(() =>
      this.db
        .prepare<[], OrganizationRow>('SELECT id, name, created_at FROM organizations ORDER BY created_at, id')
        .all()
        .map((row) => ({ id: row.id, name: row.name, createdAt: row.created_at })),
    );
  }
}
