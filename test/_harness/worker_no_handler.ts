/** A module with no packet handler, for the multi-queue socket's start-up error. */
export const nothing = 1;
