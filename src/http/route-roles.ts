// R19: every operator route and console page declares the role it needs, once, on the route (`config: { role }`);
// requireOperator enforces it. A route under /api/admin that declares none stops the server at start,
// so no route is ever reachable by accident, and the table below lets a test walk every route with
// every role.
import type { FastifyInstance } from 'fastify';
import type { RouteRole } from './auth.ts';

export interface DeclaredRoute {
  method: string;
  url: string;
  role: RouteRole;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeRoles: DeclaredRoute[];
  }
}

export function declareRouteRoles(server: FastifyInstance): void {
  const table: DeclaredRoute[] = [];
  server.decorate('routeRoles', table);
  server.addHook('onRoute', (route) => {
    const role = route.config?.role;
    if (!role) {
      if (/^\/(api\/)?admin(\/|$)/.test(route.url)) throw new Error(`${String(route.method)} ${route.url} declares no role (config.role)`);
      return;
    }
    for (const method of [route.method].flat()) if (method !== 'HEAD') table.push({ method, url: route.url, role });
  });
}
