export const iso = (date: Date): string => date.toISOString();
