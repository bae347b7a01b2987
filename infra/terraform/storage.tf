resource "google_storage_bucket" "source" {
  name                        = var.source_bucket_name
  location                    = var.storage_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = local.labels

  versioning {
    enabled = true
  }

  # Old bundles are only useful for a rollback; keep the last few.
  lifecycle_rule {
    condition {
      num_newer_versions = 5
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.api]
}

# One object per function, named by its zip's content hash: a changed bundle is a new object,
# which is what makes Cloud Run functions rebuild the function; an unchanged one (the zips are
# reproducible) keeps its name and its function is left alone.
resource "google_storage_bucket_object" "bundle" {
  for_each = local.functions

  name         = "${each.key}-${filemd5("${local.bundles_dir}/${each.key}.zip")}.zip"
  bucket       = google_storage_bucket.source.name
  source       = "${local.bundles_dir}/${each.key}.zip"
  content_type = "application/zip"

  lifecycle {
    precondition {
      condition     = fileexists("${local.bundles_dir}/${each.key}.zip")
      error_message = "No bundle for function ${each.key} in ${local.bundles_dir}: run `make bundle` first."
    }
  }
}

resource "google_storage_bucket" "artifacts" {
  name                        = var.artifacts_bucket_name
  location                    = var.storage_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = local.labels

  versioning {
    enabled = true
  }

  depends_on = [google_project_service.api]
}

# The supervisor publishes finished runs' artifacts (reports, campaign files) to the bucket;
# the status page reads them and signs links to them (signBlob on its own account, as Cloud
# Run's credentials hold no private key).
resource "google_storage_bucket_iam_member" "artifact_writer" {
  for_each = { for name, f in local.functions : name => f if f.source == "functions/supervisor" }

  bucket = google_storage_bucket.artifacts.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.function[each.key].email}"
}

resource "google_storage_bucket_iam_member" "artifact_reader" {
  bucket = google_storage_bucket.artifacts.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.function["status"].email}"
}

resource "google_service_account_iam_member" "status_signs_links" {
  service_account_id = google_service_account.function["status"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.function["status"].email}"
}
