// Under the search bar: the relevance cutoff, "newest first" for results, and the filters (folder,
// date range, camera, file type, tag). Each change asks for a new search at once; a tag alone shows its
// photos.
#pragma once

#include <QWidget>

#include "ui/search_request.h"

class QCheckBox;
class QComboBox;
class QDateEdit;
class QLabel;
class QLineEdit;
class QSlider;
class QToolButton;

namespace pictor::ui {

class FilterBar : public QWidget {
    Q_OBJECT
public:
    explicit FilterBar(QWidget* parent = nullptr);

    void setFolders(const QStringList& folders);
    void apply(SearchRequest& request) const;

    double minScore() const; // 0: no cutoff
    void setMinScore(double score);
    bool sortByDate() const;
    void setSortByDate(bool byDate);
    void setFolder(const QString& folder); // empty: all folders
    void setCamera(const QString& camera);
    void setFileTypes(const QStringList& types); // any of "jpeg", "raw", ...; empty: all
    QStringList fileTypes() const;
    // Generated pictures: -1 all, 0 leave them out, 1 only them.
    void setGenerated(int which);
    void setDateRange(const QDate& from, const QDate& to); // invalid dates: no bound
    void setTags(const QStringList& tags); // the library's tags, for the tag filter
    void setTag(const QString& tag); // empty: any
    QString tag() const;

signals:
    void changed();

private:
    QSlider* cutoff_;
    QLabel* cutoffLabel_;
    QCheckBox* byDate_;
    QComboBox* folder_;
    QCheckBox* fromEnabled_;
    QDateEdit* from_;
    QCheckBox* toEnabled_;
    QDateEdit* to_;
    QLineEdit* camera_;
    QToolButton* type_; // a menu of checkable types: several at once
    void showChosenTypes();
    QComboBox* generated_;
    QComboBox* tag_;
};

} // namespace pictor::ui
