# Security rules that deny every client (web, mobile) request: the functions use IAM through
# their service accounts, which rules do not govern. tests/unit/infra/test_terraform.py checks
# that the rules file denies everything and that this release serves it.
resource "google_firebaserules_ruleset" "firestore_deny_all" {
  project = var.project_id

  source {
    files {
      name    = "firestore.rules"
      content = file("${path.module}/firestore.rules")
    }
  }

  depends_on = [google_project_service.api, google_firestore_database.database]
}

resource "google_firebaserules_release" "firestore" {
  project      = var.project_id
  name         = "cloud.firestore"
  ruleset_name = google_firebaserules_ruleset.firestore_deny_all.name

  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore_deny_all]
  }
}
