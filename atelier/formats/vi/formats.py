"""Vietnamese dates as people write them: day/month/year, 24-hour clock ("25/11/2026 14:05").

Django's own Vietnamese long form ("Ngày 25 tháng 11 năm 2026") is too long for the gallery;
separators for numbers stay Django's (decimal comma, thousands dot).
"""

DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
