# One runtime service account per function.
resource "google_service_account" "function" {
  for_each = local.functions

  account_id   = "cr-${each.key}"
  display_name = "controlroom ${each.key} function"
  description  = "Runs the ${each.key} function (${each.value.source}:${each.value.entry_point})."
}

# Every function reads or writes Firestore (runs, conversations, inbound, the LLM cache).
resource "google_project_iam_member" "function_datastore" {
  for_each = local.functions

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.function[each.key].email}"
}

# Every function exports its spans to Cloud Trace (CONTROLROOM_TRACE_EXPORTER=gcp).
resource "google_project_iam_member" "function_trace" {
  for_each = local.functions

  project = var.project_id
  role    = "roles/cloudtrace.agent"
  member  = "serviceAccount:${google_service_account.function[each.key].email}"
}

# Publisher on exactly the topics in each function's publishes_to.
resource "google_pubsub_topic_iam_member" "function_publisher" {
  for_each = local.function_publisher_bindings

  topic  = google_pubsub_topic.topic[each.value.topic].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

resource "google_secret_manager_secret_iam_member" "function_secret_accessor" {
  for_each = local.function_secret_bindings

  secret_id = google_secret_manager_secret.secret[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

resource "google_project_iam_member" "function_vertex_ai" {
  for_each = var.grant_vertex_ai ? {
    for name, secrets in local.function_secret_needs : name => secrets if contains(secrets, "CONTROLROOM_LLM_OPENAI_API_KEY")
  } : {}

  project = var.project_id
  role    = "roles/aiplatform.user"
  member  = "serviceAccount:${google_service_account.function[each.key].email}"
}

# The identity whose OIDC token Pub/Sub pushes with; it may invoke the Pub/Sub-fed functions.
resource "google_service_account" "pubsub_push" {
  account_id   = "cr-pubsub-push"
  display_name = "controlroom Pub/Sub push"
  description  = "Signs the OIDC tokens of the push subscriptions that feed the functions."
}

resource "google_service_account_iam_member" "pubsub_push_token_creator" {
  service_account_id = google_service_account.pubsub_push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

resource "google_cloud_run_v2_service_iam_member" "push_invoker" {
  for_each = local.pubsub_functions

  location = var.region
  name     = google_cloudfunctions2_function.function[each.key].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_push.email}"
}

# Webhooks and the status page are public only when the variables say so.
resource "google_cloud_run_v2_service_iam_member" "public_invoker" {
  for_each = local.public_functions

  location = var.region
  name     = google_cloudfunctions2_function.function[each.key].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Cloud Build runs the functions' builds as this account rather than a default one.
resource "google_service_account" "build" {
  account_id   = "cr-build"
  display_name = "controlroom function builds"
  description  = "Builds the functions' container images from the source bucket."
}

resource "google_project_iam_member" "build" {
  for_each = toset([
    "roles/artifactregistry.writer",
    "roles/logging.logWriter",
  ])

  project = var.project_id
  role    = each.key
  member  = "serviceAccount:${google_service_account.build.email}"
}

resource "google_storage_bucket_iam_member" "build_source_reader" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}
