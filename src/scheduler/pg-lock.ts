// Scheduled tasks on several instances sharing one PostgreSQL: a session advisory lock per task name, so a
// task runs on one instance at a time; if that instance dies, PostgreSQL drops its lock with its session.
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { TaskLock } from './scheduler.js';

export function pgAdvisoryLock(db: Db): TaskLock {
  return {
    tryAcquire: (taskName) =>
      new Promise((resolve, reject) => {
        // The lock belongs to a session, so the connection that took it is held until the task releases it.
        db.k
          .connection()
          .execute(async (conn) => {
            const key = `faxbot:task:${taskName}`;
            const r = await sql<{ ok: boolean }>`select pg_try_advisory_lock(hashtext(${key})) as ok`.execute(conn);
            if (!r.rows[0]?.ok) {
              resolve(null);
              return;
            }
            await new Promise<void>((released) => {
              resolve(async () => {
                try {
                  await sql`select pg_advisory_unlock(hashtext(${key}))`.execute(conn);
                } finally {
                  released();
                }
              });
            });
          })
          .catch(reject);
      }),
  };
}
