# L1 programming: access kept past the academic year with manual enrolments.
locals {
  year_end = date(2027, 6, 30)
  tp       = ["TP-A", "TP-B"]
}

course "L1-INFO-PROG" {
  methods_prune = true

  method "self" {
    name      = "Auditeurs libres"
    role      = "student"
    max_users = 30
  }
  manual {
    until = local.year_end
    prune = "suspend"
    user "21009539" {
      groups = [local.tp[0]]
    }
    user "21009540" {
      groups = [local.tp[1]]
      from   = "2026-10-01T08:00:00+02:00"
    }
    user "martinp" {
      role  = "teacher"
      until = "never"
    }
  }
  groups = local.tp
}
