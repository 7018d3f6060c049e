// Every administration route: keys, settings and restart, status, jobs, audit logs, plugins.
import type { Services } from '../../../services.js';
import type { Routes } from '../../route.js';
import { apiKeyRoutes } from './api-keys.js';
import { jobRoutes } from './jobs.js';
import { logRoutes } from './logs.js';
import { pluginRoutes } from './plugins.js';
import { settingsRoutes } from './settings.js';
import { statusRoutes } from './status.js';

export function adminRoutes(routes: Routes, s: Services): void {
  apiKeyRoutes(routes, s);
  settingsRoutes(routes, s);
  statusRoutes(routes, s);
  jobRoutes(routes, s);
  logRoutes(routes, s);
  pluginRoutes(routes, s);
}
