# Reference values for ipo_research.analysis reliability / change / groups / clustering.
#
# Reads tests/fixtures/data/rcg_*.csv (written by reliability_change_groups_data.py) and writes
# tests/fixtures/r/reliability_change_groups.json.  Run from the repository root:
#     Rscript tests/r/reliability_change_groups.R
# Packages: psych (+ GPArotation), effectsize, lme4, jsonlite.  Games-Howell and the multilevel
# ICC1 are computed by their published formulas (rstatix / multilevel are not in Debian), with
# base R's ptukey / qtukey.

suppressPackageStartupMessages({
  library(psych)
  library(effectsize)
  library(lme4)
  library(jsonlite)
})

data_dir <- file.path("tests", "fixtures", "data")
out_file <- file.path("tests", "fixtures", "r", "reliability_change_groups.json")
read <- function(name) read.csv(file.path(data_dir, paste0("rcg_", name, ".csv")), na.strings = "NA")

versions <- list(
  R = R.version.string,
  psych = as.character(packageVersion("psych")),
  effectsize = as.character(packageVersion("effectsize")),
  lme4 = as.character(packageVersion("lme4"))
)

omega_tot <- function(x) {
  suppressWarnings(suppressMessages(omega(x, nfactors = 1, plot = FALSE)))$omega.tot
}

# ------------------------------------------------------------------ reliability
rel_ref <- function(x) {
  a <- alpha(x, warnings = FALSE)
  st <- a$item.stats
  list(
    summary = list(
      n = nrow(x), k = ncol(x),
      alpha = a$total$raw_alpha,
      alpha_ci_low = unname(unlist(a$feldt$lower.ci)),
      alpha_ci_high = unname(unlist(a$feldt$upper.ci)),
      std_alpha = a$total$std.alpha,
      average_r = a$total$average_r,
      omega_total = omega_tot(x)
    ),
    items = list(
      item = colnames(x),
      n = unname(st$n), mean = unname(st$mean), sd = unname(st$sd),
      item_rest_r = unname(st$r.drop),
      alpha_if_deleted = unname(a$alpha.drop$raw_alpha),
      omega_if_deleted = sapply(seq_len(ncol(x)), function(i) omega_tot(x[, -i]))
    )
  )
}

# ------------------------------------------------------------------ paired change
# effectsize finds the noncentrality bounds of a d CI with optim(Nelder-Mead) on |pt(...) - p|,
# which can stop early for large t (change_tiny_p: its lower bound gives pt = 0.9738, not 0.975).
# ncp_root() solves the same equations with uniroot on R's pt so the tests can check the
# Python CI against the exact root, and record effectsize's own residual.
ncp_root <- function(t, df, prob) {
  f <- function(ncp) suppressWarnings(pt(t, df, ncp)) - prob
  uniroot(f, c(t - 10 - abs(t), t + 10 + abs(t)), tol = 1e-13)$root
}
paired_ref <- function(pre, post) {
  ok <- !is.na(pre) & !is.na(post)
  pre <- pre[ok]
  post <- post[ok]
  tt <- t.test(post, pre, paired = TRUE)
  dz <- cohens_d(post, pre, paired = TRUE)
  g <- hedges_g(post, pre, paired = TRUE)
  w <- suppressWarnings(wilcox.test(post, pre, paired = TRUE))
  rb <- rank_biserial(post, pre, paired = TRUE)
  d <- post - pre
  list(
    n = length(d), mean_pre = mean(pre), mean_post = mean(post), mean_diff = mean(d),
    diff_ci_low = tt$conf.int[1], diff_ci_high = tt$conf.int[2],
    t = unname(tt$statistic), df = unname(tt$parameter), p = tt$p.value,
    d_z = dz$Cohens_d, d_z_ci_low = dz$CI_low, d_z_ci_high = dz$CI_high,
    d_z_ci_low_root = ncp_root(unname(tt$statistic), length(d) - 1, 0.975) / sqrt(length(d)),
    d_z_ci_high_root = ncp_root(unname(tt$statistic), length(d) - 1, 0.025) / sqrt(length(d)),
    effectsize_ci_residual = max(
      abs(pt(unname(tt$statistic), length(d) - 1, dz$CI_low * sqrt(length(d))) - 0.975),
      abs(pt(unname(tt$statistic), length(d) - 1, dz$CI_high * sqrt(length(d))) - 0.025)
    ),
    # effectsize >= 0.8.7: repeated_measures_d(method = "av"); same formula
    d_av = mean(d) / sqrt((var(pre) + var(post)) / 2),
    hedges_g = g$Hedges_g,
    wilcoxon_v = unname(w$statistic), wilcoxon_p = w$p.value,
    wilcoxon_method = w$method,
    r_rb = rb$r_rank_biserial
  )
}

# ------------------------------------------------------------------ groups
groups_ref <- function(df) {
  df <- df[!is.na(df$score) & !is.na(df$group), ]
  df$group <- factor(df$group, levels = sort(unique(df$group), method = "radix"))
  ow <- oneway.test(score ~ group, data = df, var.equal = FALSE)
  kw <- kruskal.test(score ~ group, data = df)
  fit <- aov(score ~ group, data = df)
  om <- omega_squared(fit, ci = NULL, verbose = FALSE)
  ep <- epsilon_squared(fit, ci = NULL, verbose = FALSE)
  lev <- levels(df$group)
  k <- length(lev)
  pw <- list()
  for (i in 1:(k - 1)) for (j in (i + 1):k) {
    a <- df$score[df$group == lev[i]]
    b <- df$score[df$group == lev[j]]
    va <- var(a) / length(a)
    vb <- var(b) / length(b)
    diff <- mean(b) - mean(a)
    se <- sqrt((va + vb) / 2)
    dfw <- (va + vb)^2 / (va^2 / (length(a) - 1) + vb^2 / (length(b) - 1))
    q <- abs(diff) / se
    hg <- hedges_g(b, a)
    pw[[length(pw) + 1]] <- list(
      group1 = lev[i], group2 = lev[j], mean_diff = diff, se = se, q = q, df = dfw,
      p = ptukey(q, k, dfw, lower.tail = FALSE),
      ci_low = diff - qtukey(0.95, k, dfw) * se, ci_high = diff + qtukey(0.95, k, dfw) * se,
      hedges_g = hg$Hedges_g, hedges_g_ci_low = hg$CI_low, hedges_g_ci_high = hg$CI_high
    )
  }
  list(
    summary = list(
      n = nrow(df), k = k,
      welch_f = unname(ow$statistic), df1 = unname(ow$parameter[1]), df2 = unname(ow$parameter[2]),
      p_welch = ow$p.value,
      kruskal_h = unname(kw$statistic), p_kruskal = kw$p.value,
      omega_sq = om$Omega2, epsilon_sq = ep$Epsilon2,
      rank_epsilon_sq = rank_epsilon_squared(score ~ group, data = df, ci = NULL)$rank_epsilon_squared
    ),
    pairwise = pw
  )
}

# ------------------------------------------------------------------ clustering
cluster_ref <- function(df) {
  df <- df[!is.na(df$score) & !is.na(df$team), ]
  fit <- suppressMessages(lmer(score ~ 1 + (1 | team), data = df, REML = TRUE))
  vc <- as.data.frame(VarCorr(fit))
  vb <- vc$vcov[vc$grp == "team"]
  vw <- vc$vcov[vc$grp == "Residual"]
  a <- summary(aov(score ~ factor(team), data = df))[[1]]
  msb <- a[1, 3]
  msw <- a[2, 3]
  gsize <- nrow(df) / length(unique(df$team))
  list(
    reml = list(var_between = vb, var_within = vw, icc = vb / (vb + vw), singular = isSingular(fit)),
    # multilevel::ICC1 and psych::statsBy ICC1 formula (Bliese): mean group size N / J
    anova = list(icc = (msb - msw) / (msb + (gsize - 1) * msw), msb = msb, msw = msw),
    n = nrow(df), n_clusters = length(unique(df$team)), mean_cluster_size = gsize
  )
}

result <- list(versions = versions, reliability = list(), change = list(), shift = list(),
               groups = list(), clusters = list())
for (nm in c("rel_complete", "rel_missing", "rel_small", "rel_iccas")) {
  x <- read(nm)
  result$reliability[[nm]] <- list(pairwise = rel_ref(x), listwise = rel_ref(na.omit(x)))
}
for (nm in c("change_ties", "change_distinct20", "change_distinct49", "change_distinct50",
             "change_tiny_p", "change_missing")) {
  x <- read(nm)
  result$change[[nm]] <- paired_ref(x$pre, x$post)
}
x <- read("shift")
x <- x[complete.cases(x), ]
result$shift <- list(
  response_shift = paired_ref(x$pre, x$then),
  true_change = paired_ref(x$pre, x$post),
  retrospective_change = paired_ref(x$then, x$post)
)
for (nm in c("groups_unbalanced", "groups_two", "groups_tiny_p", "groups_null")) {
  result$groups[[nm]] <- groups_ref(read(nm))
}
for (nm in c("clusters_unbalanced", "clusters_balanced", "clusters_none")) {
  result$clusters[[nm]] <- cluster_ref(read(nm))
}

writeLines(toJSON(result, auto_unbox = TRUE, digits = I(17), pretty = TRUE, na = "null"), out_file)
cat("wrote", out_file, "\n")
