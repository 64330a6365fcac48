locals {
  year = 2026
  end  = date(local.year + 1, 6, 30)
}

variable "promo" {
  default = "L1-INFO-2026"
}

course "L1-INFO-ALGO" {
  method "database" {}
  method "cohort" {
    cohort = var.promo
    role   = "student"
    group  = format("Promo %d", local.year)
  }
  method "meta" {
    course = upper("l1-info-tronc-commun")
  }
  method "self" {
    name    = "Accès enseignants"
    enabled = false
  }
  manual {
    role  = "student"
    until = local.end
    from  = "2026-09-01"
    prune = "keep"
    user "21009539" {}
    user "55000904" {
      until  = "2027-09-01"
      groups = ["TP1"]
    }
    user "55000902" {
      suspended = true
    }
    user "dumontj01" {
      role  = "editingteacher"
      until = "never"
    }
  }
  group "TP1" {}
}
