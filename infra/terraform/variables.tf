variable "project_id" {
  type        = string
  description = "Google Cloud project that hosts one controlroom environment."
}

variable "region" {
  type        = string
  description = "Region of the functions, the Cloud Scheduler jobs and the default for other regional resources."
  default     = "europe-west1"
}

variable "environment" {
  type        = string
  description = "Name of the environment (dev, staging, prod); used in labels only."
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}$", var.environment))
    error_message = "environment must be lower-case letters, digits and dashes (a valid label value)."
  }
}

variable "labels" {
  type        = map(string)
  description = "Extra labels put on every labelled resource."
  default     = {}
}

variable "additional_apis" {
  type        = set(string)
  description = "APIs to enable besides the ones controlroom always needs, e.g. aiplatform.googleapis.com for Gemini on Vertex AI."
  default     = []
}

variable "storage_location" {
  type        = string
  description = "Location of the source and artifacts buckets (a region, dual-region or multi-region such as EU)."
  default     = "EU"
}

variable "source_bucket_name" {
  type        = string
  description = "Globally unique name of the bucket that holds the functions' source zips (uploaded by Terraform)."
}

variable "artifacts_bucket_name" {
  type        = string
  description = "Globally unique name of the bucket for run artifacts exported out of Firestore (reports, CSV)."
}

variable "bundles_dir" {
  type        = string
  description = "Folder of the functions' zips, one <function>.zip per topology function, as `make bundle` writes them (a relative path is relative to this module). Each is uploaded under its content hash, so only a changed bundle redeploys its function."
  default     = "../../dist/bundles"
}

variable "python_runtime" {
  type        = string
  description = "Cloud Run functions runtime of every function."
  default     = "python311"
}

variable "firestore_location" {
  type        = string
  description = "Location of the (default) Firestore database, e.g. eur3 or europe-west1. Cannot change after creation."
  default     = "eur3"
}

variable "firestore_delete_protection" {
  type        = bool
  description = "Turn on Firestore delete protection so the database cannot be deleted by accident."
  default     = true
}

variable "kb_embedding_dimensions" {
  type        = number
  description = "Dimension of kb_chunks.embedding for the Firestore vector index (e.g. 1536 for text-embedding-3-small, 768 for Vertex); 0 creates no vector index (BM25 only)."
  default     = 0

  validation {
    condition     = var.kb_embedding_dimensions >= 0 && var.kb_embedding_dimensions <= 2048
    error_message = "Firestore vector fields hold at most 2048 dimensions."
  }
}

variable "webhooks_public_access" {
  type        = bool
  description = "Let anyone invoke the webhooks function (allUsers run.invoker). Vendors cannot send Google identity tokens, so webhooks need it; requests are still authenticated by signature or bearer token."
  default     = true
}

variable "status_public_access" {
  type        = bool
  description = "Let anyone invoke the status function (allUsers run.invoker): the public status page and site chat."
  default     = false
}

variable "worker_ingress" {
  type        = string
  description = "Ingress setting of the Pub/Sub-fed functions. They require an authenticated caller either way; ALLOW_INTERNAL_ONLY also keeps them off the internet."
  default     = "ALLOW_ALL"

  validation {
    condition     = contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], var.worker_ingress)
    error_message = "worker_ingress must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }
}

variable "function_environment" {
  type        = map(string)
  description = "Plain (non-secret) environment variables for every function, e.g. CONTROLROOM_DATA_SOURCE, CONTROLROOM_STATUS_URL, CONTROLROOM_SLACK_CHANNEL."
  default     = {}
}

variable "populated_secrets" {
  type        = set(string)
  description = "Secrets that already have a version (added outside Terraform). Only these are mounted into functions: Cloud Run refuses to start a revision that references a secret with no version."
  default     = []
}

variable "grant_vertex_ai" {
  type        = bool
  description = "Grant roles/aiplatform.user to the functions that call an LLM or embedder, for Gemini on Vertex AI (also add aiplatform.googleapis.com to additional_apis)."
  default     = false
}

variable "scheduler_retry_count" {
  type        = number
  description = "How many times Cloud Scheduler retries a job whose publish failed."
  default     = 3
}
