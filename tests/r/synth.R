# Reference values for ipo_research.synth: does lme4/lmerTest recover the generator's truth?
#
# Reads tests/fixtures/data/synth_scores.csv (written by tests/r/synth_data.py from
# generate(seed = 2024, scale = 1.0)) and fits, per instrument, the generating model
#   score ~ post * (hbo + hours10 + leerteam) + (1 | team) + (1 | Studentnummer)
# with REML; curriculum-only students share the team "none" (their true team effect is 0).
# Writes tests/fixtures/r/synth_lmer.json: fixed effects with SE, Satterthwaite df and 95% CI,
# and profile 99% CIs of the team and student SDs.
# Run from the repository root:  Rscript tests/r/synth.R
suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(jsonlite)
})

d <- read.csv(file.path("tests", "fixtures", "data", "synth_scores.csv"),
              colClasses = c(Studentnummer = "character"), na.strings = "")
d$post <- as.integer(d$wave == "post")
d$hbo <- as.integer(d$Niveau == "hbo")
d$hours10 <- d$ip_hours / 10
d$leerteam <- as.integer(!is.na(d$Leerteam) & d$Leerteam != "")
d$team <- ifelse(d$leerteam == 1, d$Leerteam, "none")

fit <- function(instr) {
  x <- d[d$instrument == instr, ]
  m <- lmer(score ~ post * (hbo + hours10 + leerteam) + (1 | team) + (1 | Studentnummer),
            data = x, REML = TRUE)
  co <- summary(m)$coefficients
  ci <- confint(m, parm = "theta_", method = "profile", oldNames = FALSE, level = 0.99)
  vc <- as.data.frame(VarCorr(m))
  list(
    n = nrow(x),
    fixed = lapply(setNames(seq_len(nrow(co)), rownames(co)), function(i) list(
      estimate = co[i, "Estimate"], se = co[i, "Std. Error"], df = co[i, "df"],
      ci_low = co[i, "Estimate"] - qt(0.975, co[i, "df"]) * co[i, "Std. Error"],
      ci_high = co[i, "Estimate"] + qt(0.975, co[i, "df"]) * co[i, "Std. Error"])),
    sd = setNames(as.list(vc$sdcor), vc$grp),
    sd_team_ci = unname(ci["sd_(Intercept)|team", ]),
    sd_student_ci = unname(ci["sd_(Intercept)|Studentnummer", ])
  )
}

out <- list(seed = 2024, scale = 1.0, RIPLS = fit("RIPLS"), ICCAS = fit("ICCAS"),
            r_version = R.version.string,
            lme4 = as.character(packageVersion("lme4")),
            lmerTest = as.character(packageVersion("lmerTest")))
dir.create(file.path("tests", "fixtures", "r"), showWarnings = FALSE, recursive = TRUE)
write_json(out, file.path("tests", "fixtures", "r", "synth_lmer.json"),
           auto_unbox = TRUE, digits = NA, pretty = TRUE)
cat("wrote tests/fixtures/r/synth_lmer.json\n")
