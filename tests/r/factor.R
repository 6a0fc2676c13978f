# Reference values for ipo_research.analysis.factor (CFA and measurement invariance).
#
# Run from the repository root:  Rscript tests/r/factor.R
# Needs: lavaan (0.6-14 was used for the committed fixtures), jsonlite.
#
# 1. Generates seeded, Likert-like datasets into tests/fixtures/data/*.csv
#    (integers, so the CSV round trip is exact).
# 2. Fits them with lavaan's defaults (cfa(model, data, estimator = "ML"),
#    missing = "listwise") and writes fit measures, parameter estimates and
#    chi-square difference tests to tests/fixtures/r/factor_*.json.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

data_dir <- file.path("tests", "fixtures", "data")
out_dir <- file.path("tests", "fixtures", "r")
dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

# ---------------------------------------------------------------- data --------

# Continuous factor-model scores cut to a 1..k Likert scale.
likert <- function(z, k, centre, spread) {
  x <- round(centre + spread * z)
  pmin(pmax(x, 1), k)
}

simulate <- function(n, loadings, phi, k, centre = (k + 1) / 2, spread = 1,
                     shift = NULL, item_shift = NULL) {
  p <- nrow(loadings)
  m <- ncol(loadings)
  eta <- matrix(rnorm(n * m), n, m) %*% chol(phi)
  if (!is.null(shift)) eta <- sweep(eta, 2, shift, "+")
  uniq <- sqrt(pmax(1 - rowSums((loadings %*% phi) * loadings), 0.05))
  z <- eta %*% t(loadings) + sweep(matrix(rnorm(n * p), n, p), 2, uniq, "*")
  if (!is.null(item_shift)) z <- sweep(z, 2, item_shift, "+")
  likert(z, k, centre, spread)
}

block_loadings <- function(sizes, values) {
  p <- sum(sizes)
  L <- matrix(0, p, length(sizes))
  start <- 1
  for (j in seq_along(sizes)) {
    idx <- start:(start + sizes[j] - 1)
    L[idx, j] <- values[idx]
    start <- start + sizes[j]
  }
  L
}

set.seed(20241122)

# RIPLS-like: 4 factors, 19 items (9, 3, 4, 3), 1..5.
ripls_L <- block_loadings(c(9, 3, 4, 3), runif(19, 0.45, 0.8))
ripls_phi <- matrix(c(1, .35, .55, .30,
                      .35, 1, .40, .25,
                      .55, .40, 1, .35,
                      .30, .25, .35, 1), 4, 4)
ripls <- simulate(320, ripls_L, ripls_phi, k = 5, centre = 3.6, spread = 1.1)
colnames(ripls) <- paste0("ripls_", 1:19)
write.csv(ripls, file.path(data_dir, "factor_ripls.csv"), row.names = FALSE)

# ICCAS-like: one factor, 20 items, 1..7.
iccas_L <- matrix(runif(20, 0.6, 0.85), 20, 1)
iccas <- simulate(240, iccas_L, matrix(1), k = 7, centre = 4.8, spread = 1.3)
colnames(iccas) <- paste0("iccas_", 1:20)
write.csv(iccas, file.path(data_dir, "factor_iccas.csv"), row.names = FALSE)

# RIPLS-like with about 4% missing answers per cell (listwise deletion).
miss <- simulate(400, ripls_L, ripls_phi, k = 5, centre = 3.6, spread = 1.1)
colnames(miss) <- paste0("ripls_", 1:19)
miss[matrix(runif(length(miss)) < 0.004, nrow(miss))] <- NA
write.csv(miss, file.path(data_dir, "factor_missing.csv"), row.names = FALSE, na = "")

# Misspecified: two correlated factors plus cross-loadings, fitted as one factor.
mis_L <- block_loadings(c(5, 5), runif(10, 0.55, 0.8))
mis_L[2, 2] <- 0.45
mis_L[7, 1] <- 0.4
misfit <- simulate(300, mis_L, matrix(c(1, .25, .25, 1), 2), k = 5, centre = 3,
                   spread = 1.2)
colnames(misfit) <- paste0("x", 1:10)
write.csv(misfit, file.path(data_dir, "factor_misfit.csv"), row.names = FALSE)

# Invariance: 3 factors, 10 items (4, 3, 3), groups mbo / hbo (unequal n) and
# a 3-level cohort; hbo has a higher mean on F1 and a biased intercept on item 6.
inv_L <- block_loadings(c(4, 3, 3), runif(10, 0.5, 0.8))
inv_phi <- matrix(c(1, .4, .3, .4, 1, .45, .3, .45, 1), 3, 3)
inv_L_hbo <- inv_L
inv_L_hbo[3, 1] <- inv_L[3, 1] + 0.15
mbo <- simulate(260, inv_L, inv_phi, k = 5, centre = 3.2, spread = 1.1)
hbo <- simulate(210, inv_L_hbo, inv_phi, k = 5, centre = 3.2, spread = 1.1,
                shift = c(0.3, 0, 0.1),
                item_shift = c(0, 0, 0, 0, 0, 0.45, 0, 0, 0, 0))
inv <- rbind(mbo, hbo)
colnames(inv) <- paste0("item_", 1:10)
inv <- data.frame(niveau = rep(c("mbo", "hbo"), c(260, 210)), inv)
ord <- sample(nrow(inv))
inv <- inv[ord, ]
inv$cohort <- sample(c("2021-2022", "2022-2023", "2023-2024"), nrow(inv),
                     replace = TRUE)
write.csv(inv, file.path(data_dir, "factor_invariance.csv"), row.names = FALSE)

# ---------------------------------------------------------------- fits --------

model_string <- function(model) {
  paste(sprintf("%s =~ %s", names(model),
                vapply(model, paste, "", collapse = " + ")), collapse = "\n")
}

# Fit while recording lavaan's warnings (e.g. inadmissible solutions).
fit_quietly <- function(expr) {
  caught <- character(0)
  fit <- withCallingHandlers(expr, warning = function(w) {
    caught <<- c(caught, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  attr(fit, "lavaan_warnings") <- caught
  fit
}

fit_json <- function(fit) {
  fm <- fitMeasures(fit)
  pe <- parameterEstimates(fit, standardized = TRUE)
  pe <- pe[, intersect(c("lhs", "op", "rhs", "group", "est", "se", "z", "pvalue",
                         "std.all"), names(pe))]
  list(
    converged = lavInspect(fit, "converged"),
    warnings = I(attr(fit, "lavaan_warnings")),
    nobs = lavInspect(fit, "nobs"),
    group_labels = lavInspect(fit, "group.label"),
    fit = as.list(unclass(fm)),
    estimates = pe
  )
}

cfa_case <- function(name, file, model, ...) {
  data <- read.csv(file.path(data_dir, file))
  fit <- fit_quietly(cfa(model_string(model), data = data, estimator = "ML", ...))
  out <- c(list(name = name, data = file, model = model), fit_json(fit))
  write_json(out, file.path(out_dir, sprintf("factor_cfa_%s.json", name)),
             digits = NA, auto_unbox = TRUE, pretty = TRUE)
}

ripls_model <- list(TC = paste0("ripls_", 1:9), NPI = paste0("ripls_", 10:12),
                    PPI = paste0("ripls_", 13:16), RR = paste0("ripls_", 17:19))

cfa_case("ripls", "factor_ripls.csv", ripls_model)
cfa_case("iccas", "factor_iccas.csv", list(ICCAS = paste0("iccas_", 1:20)))
cfa_case("missing", "factor_missing.csv", ripls_model)
cfa_case("misfit", "factor_misfit.csv", list(F = paste0("x", 1:10)))
# Two factors with two items each (identified through the factor covariance).
cfa_case("twoitem", "factor_misfit.csv",
         list(A = c("x1", "x2"), B = c("x6", "x8"), C = c("x3", "x4", "x5")))

inv_model <- list(F1 = paste0("item_", 1:4), F2 = paste0("item_", 5:7),
                  F3 = paste0("item_", 8:10))

invariance_case <- function(name, group) {
  data <- read.csv(file.path(data_dir, "factor_invariance.csv"))
  ms <- model_string(inv_model)
  configural <- fit_quietly(cfa(ms, data = data, group = group, estimator = "ML"))
  metric <- fit_quietly(cfa(ms, data = data, group = group, estimator = "ML",
                            group.equal = "loadings"))
  scalar <- fit_quietly(cfa(ms, data = data, group = group, estimator = "ML",
                            group.equal = c("loadings", "intercepts")))
  lrt <- lavTestLRT(configural, metric, scalar)
  lrt <- data.frame(model = rownames(lrt), as.data.frame(lrt), check.names = FALSE)
  out <- list(
    name = name, data = "factor_invariance.csv", group = group, model = inv_model,
    configural = fit_json(configural), metric = fit_json(metric),
    scalar = fit_json(scalar), lrt = lrt
  )
  write_json(out, file.path(out_dir, sprintf("factor_invariance_%s.json", name)),
             digits = NA, auto_unbox = TRUE, pretty = TRUE)
}

invariance_case("niveau", "niveau")
invariance_case("cohort", "cohort")

writeLines(sprintf("lavaan %s: fixtures written to %s", packageVersion("lavaan"), out_dir))
