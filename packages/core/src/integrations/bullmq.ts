export {
  type JobJoiningSandbox,
  type JobOwnerOptions,
  jobRefusedChannel,
  runJobsAsOwners,
} from './bullmq/job-owners.js'
export { JOB_OWNER_OPTION } from './bullmq/job-refusals.js'
export {
  type JobStampingOptions,
  type JobStampingSandbox,
  stampJobs,
} from './bullmq/job-stamping.js'
