"""Every relation the API traverses, declared once from the ORM relationships.

The GraphQL types reference these in their field metadata; the per-request loaders are
built from `ALL_TO_ONE`, `ALL_TO_MANY` and `ALL_LOOKUPS`.
"""

from graphql_api import models
from graphql_api.kit.batch_queries import ByKey, ToMany, ToOne
from graphql_api.kit.pagination import Ordering, newest_first

MEMBER_BY_ID = ByKey(models.Member.id)
MEMBER_BY_NUMBER = ByKey(models.Member.member_number)
PENSION_ACCOUNT_BY_ID = ByKey(models.PensionAccount.id)
PORTFOLIO_BY_ID = ByKey(models.Portfolio.id)
RECOMMENDATION_BY_ID = ByKey(models.Recommendation.id)
LOAN_APPLICATION_BY_ID = ByKey(models.LoanApplication.id)
PREDICTION_BY_ID = ByKey(models.Prediction.id)
FEEDBACK_BY_ID = ByKey(models.Feedback.id)
AUDIT_LOG_BY_ID = ByKey(models.AuditLog.id)

MEMBER_PENSION_ACCOUNT = ToOne.from_relationship(models.Member.pension_account)
PENSION_ACCOUNT_MEMBER = ToOne.from_relationship(models.PensionAccount.member)
PORTFOLIO_MEMBER = ToOne.from_relationship(models.Portfolio.member)
RECOMMENDATION_PORTFOLIO = ToOne.from_relationship(models.Recommendation.portfolio)
LOAN_APPLICATION_MEMBER = ToOne.from_relationship(models.LoanApplication.member)
PREDICTION_MEMBER = ToOne.from_relationship(models.Prediction.member)
FEEDBACK_PREDICTION = ToOne.from_relationship(models.Feedback.prediction)
AUDIT_LOG_MEMBER = ToOne.from_relationship(models.AuditLog.member)

MEMBER_PORTFOLIOS = ToMany.from_relationship(
    models.Member.portfolios, newest_first(models.Portfolio)
)
MEMBER_LOAN_APPLICATIONS = ToMany.from_relationship(
    models.Member.loan_applications, newest_first(models.LoanApplication)
)
MEMBER_PREDICTIONS = ToMany.from_relationship(
    models.Member.predictions, newest_first(models.Prediction)
)
MEMBER_AUDIT_LOGS = ToMany.from_relationship(
    models.Member.audit_logs, newest_first(models.AuditLog)
)
PORTFOLIO_RECOMMENDATIONS = ToMany.from_relationship(
    models.Portfolio.recommendations, newest_first(models.Recommendation)
)
# Feedback reads oldest first: it is a conversation about one prediction.
PREDICTION_FEEDBACK = ToMany.from_relationship(
    models.Prediction.feedback,
    Ordering((models.Feedback.created_at, models.Feedback.id), descending=False),
)

ALL_LOOKUPS = (
    MEMBER_BY_ID,
    MEMBER_BY_NUMBER,
    PENSION_ACCOUNT_BY_ID,
    PORTFOLIO_BY_ID,
    RECOMMENDATION_BY_ID,
    LOAN_APPLICATION_BY_ID,
    PREDICTION_BY_ID,
    FEEDBACK_BY_ID,
    AUDIT_LOG_BY_ID,
)
ALL_TO_ONE = (
    MEMBER_PENSION_ACCOUNT,
    PENSION_ACCOUNT_MEMBER,
    PORTFOLIO_MEMBER,
    RECOMMENDATION_PORTFOLIO,
    LOAN_APPLICATION_MEMBER,
    PREDICTION_MEMBER,
    FEEDBACK_PREDICTION,
    AUDIT_LOG_MEMBER,
)
ALL_TO_MANY = (
    MEMBER_PORTFOLIOS,
    MEMBER_LOAN_APPLICATIONS,
    MEMBER_PREDICTIONS,
    MEMBER_AUDIT_LOGS,
    PORTFOLIO_RECOMMENDATIONS,
    PREDICTION_FEEDBACK,
)
