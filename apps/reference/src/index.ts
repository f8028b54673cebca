export const appName = "wider";
