# Excel - perfectionnement, written in HCL to show the other syntax.
# Most trainees' access ended on 31 August 2026: extended to the end of the 2026-2027
# session. Two trainees who dropped out stay suspended.
locals {
  session_end = "2027-06-30"
}

course "FC-EXCEL-PERF" {
  manual {
    role  = "student"
    from  = "2026-01-05"
    until = local.session_end

    user "bessonc01" {
      role  = "editingteacher"
      from  = "2025-09-01"
      until = "never"
    }
    user "perrotn01" {
      role  = "teacher"
      from  = "2025-09-01"
      until = "never"
    }

    user "90392203" {}
    user "90832937" {}
    user "90647466" {}
    user "90389478" {}
    user "90980310" {}
    user "90990447" {}
    user "90365249" {}
    user "90590323" {}
    user "90797406" {}
    user "90989345" {}
    user "90465960" {}
    user "90124591" {}
    user "90403524" {}
    user "90385713" {}
    user "90270913" {}
    user "90202751" {}
    user "90687113" {}
    user "90572484" {
      suspended = true
    }
    user "90930484" {}
    user "90292588" {}
    user "90145885" {}
    user "90959638" {}
    user "90747202" {}
    user "90661675" {}
    user "90088718" {
      suspended = true
    }
  }
}
