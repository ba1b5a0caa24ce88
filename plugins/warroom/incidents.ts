import type { DingopsEvents, PluginServices } from 'dingops';

/**
 * What the war rooms know of incidents: only what the alerts plugin offers other plugins
 * (its `alerts.incidents` service and `alerts.incident.changed` event), never its files.
 */
export type IncidentsApi = PluginServices['alerts.incidents'];
export type IncidentView = NonNullable<Awaited<ReturnType<IncidentsApi['get']>>>;
export type TimelineEntry = Awaited<ReturnType<IncidentsApi['timeline']>>[number];
export type IncidentActor = Parameters<IncidentsApi['acknowledge']>[1];
export type IncidentChange = DingopsEvents['alerts.incident.changed'];
