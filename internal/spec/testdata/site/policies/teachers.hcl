policy "enseignants-info" {
  courses {
    list = ["L1-INFO-ALGO", "L1-INFO-PROG", "L2-INFO-BDD"]
  }
  method "cohort" {
    cohort = "ENS-INFO"
    role   = "editingteacher"
  }
}
