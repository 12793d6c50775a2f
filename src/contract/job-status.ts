// The one list of job statuses: request enums, response schemas and the client's types come from it.

/** Every status a job can have, in lifecycle order. */
export const JOB_STATUSES = ['pending', 'running', 'completed', 'failed', 'timeout', 'cancelled'] as const

/** A job's status on the wire. */
export type JobStatus = typeof JOB_STATUSES[number]

/** The statuses a job ends in (anything but pending and running). */
export const FINISHED_STATUSES: ReadonlySet<JobStatus> = new Set(JOB_STATUSES.filter((status) => status !== 'pending' && status !== 'running'))

/** A job's status as JSON Schema. */
export const JobStatusSchema = { type: 'string', enum: JOB_STATUSES } as const
